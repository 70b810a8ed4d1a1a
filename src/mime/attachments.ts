// Whether a message "has attachments", for the webmail paper-clip and the
// $HasAttachment keyword (RFC 8457). There is no standard definition; this one
// follows what mail clients show: a part the user would save as a file.
import { paramValue } from './params.js';
import type { MimePart } from './types.js';

/** Signatures travel as attachments but are not something a reader saves. */
const SIGNATURES = new Set(['application/pgp-signature', 'application/pkcs7-signature', 'application/x-pkcs7-signature']);

function partHasAttachment(part: MimePart, isRoot: boolean): boolean {
  if (part.type === 'multipart') return part.children.some((c) => partHasAttachment(c, false));
  if (SIGNATURES.has(`${part.type}/${part.subtype}`)) return false;
  // A forwarded message attached as message/rfc822 counts; its own parts do not.
  if (part.message !== null) return !isRoot;
  const disposition = part.disposition?.type ?? null;
  if (disposition === 'attachment') return true;
  const filename = (part.disposition === null ? null : paramValue(part.disposition.params, 'filename')) ?? paramValue(part.params, 'name');
  if (filename !== null && filename !== '') return true;
  if (part.type === 'text') return false;
  // A non-text body without a name: an attachment unless it is an inline resource
  // referenced by Content-ID (multipart/related images) or marked inline.
  return isRoot || (part.id === null && disposition !== 'inline');
}

export function hasAttachments(root: MimePart): boolean {
  return partHasAttachment(root, true);
}
