// Whether a message "has attachments", for the webmail paper-clip and the
// $HasAttachment keyword (RFC 8457). There is no standard definition; this one
// follows what mail clients show: a part the user would save as a file.
import { decodeMimeWords } from './encoded-words.js';
import { paramValue } from './params.js';
import type { MimePart } from './types.js';

/** Signatures travel as attachments but are not something a reader saves. */
const SIGNATURES = new Set(['application/pgp-signature', 'application/pkcs7-signature', 'application/x-pkcs7-signature']);

function partHasAttachment(part: MimePart, isRoot: boolean, inRelated: boolean): boolean {
  if (part.type === 'multipart') return part.children.some((c) => partHasAttachment(c, false, part.subtype === 'related'));
  if (SIGNATURES.has(`${part.type}/${part.subtype}`)) return false;
  // A forwarded message attached as message/rfc822 counts; its own parts do not.
  if (part.message !== null) return !isRoot;
  const disposition = part.disposition?.type ?? null;
  if (disposition === 'attachment') return true;
  // Resources of an HTML body (RFC 2387), such as signature logos, are referenced by
  // Content-ID and shown inline; Outlook gives them file names, but they are not attachments.
  if (inRelated && part.id !== null) return false;
  const filename = (part.disposition === null ? null : paramValue(part.disposition.params, 'filename')) ?? paramValue(part.params, 'name');
  if (filename !== null && filename !== '') return true;
  if (part.type === 'text') return false;
  // A non-text body without a name: an attachment unless it is an inline resource
  // referenced by Content-ID or marked inline.
  return isRoot || (part.id === null && disposition !== 'inline');
}

export function hasAttachments(root: MimePart): boolean {
  return partHasAttachment(root, true, false);
}

/**
 * The file name to show or save a part under: Content-Disposition filename, else the
 * Content-Type name (RFC 2183 2.3, RFC 2046 obsolete `name`), RFC 2231 values first.
 * Many clients put RFC 2047 encoded-words inside a quoted filename, which RFC 2047 5
 * forbids; every client decodes them anyway, so this does too. Path separators are
 * replaced so the name cannot point outside a download folder.
 */
export function attachmentFilename(part: MimePart): string | null {
  const raw = (part.disposition === null ? null : paramValue(part.disposition.params, 'filename')) ?? paramValue(part.params, 'name');
  if (raw === null) return null;
  // eslint-disable-next-line no-control-regex
  const name = decodeMimeWords(raw).replace(/[\\/\x00-\x1f]/g, '_').trim();
  return name === '' ? null : name;
}
