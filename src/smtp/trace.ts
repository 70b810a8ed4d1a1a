// Trace fields written at delivery: Received (RFC 5321 4.4) and the removal of forged
// Authentication-Results fields (RFC 8601 5).

export interface TraceInfo {
  sessionId: string;
  remoteAddress: string;
  helo: string;
  /** RFC 3848 protocol: ESMTP, ESMTPS, ESMTPSA, … */
  protocol: string;
  tls: { version: string; cipher: string } | null;
}

/** The Received field; TLS details as Postfix writes them; "for" only with one recipient. */
export function receivedHeader(hostname: string, t: TraceInfo, recipients: string[]): string {
  const lines = [`Received: from ${t.helo || 'unknown'} ([${t.remoteAddress}])`, `\tby ${hostname} (Steadymail) with ${t.protocol} id ${t.sessionId}`];
  if (t.tls) lines.push(`\t(version=${t.tls.version} cipher=${t.tls.cipher})`);
  const only = recipients.length === 1 ? recipients[0] : undefined;
  lines.push(`\t${only ? `for <${only}>` : ''}; ${rfc5322Date(new Date())}`);
  return lines.join('\r\n') + '\r\n';
}

function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/**
 * RFC 8601 5: an MTA MUST remove Authentication-Results fields that claim its own
 * authserv-id before adding its own, or a sender could forge a "pass" that our users'
 * clients would trust. Returns the message unchanged (same Buffer) when there is none.
 */
export function withoutForgedAuthResults(message: Buffer, authservId: string): Buffer {
  let end = message.indexOf('\r\n\r\n');
  end = end < 0 ? message.length : end + 2;
  const header = message.toString('latin1', 0, end);
  if (!/(?:^|\n)authentication-results[ \t]*:/i.test(header)) return message;
  const fields = header.split(/\r\n(?![ \t])/);
  const id = authservId.toLowerCase();
  const kept = fields.filter((f) => {
    const m = /^authentication-results[ \t]*:\s*(?:\([^)]*\)\s*)?([^;\s(]+)/i.exec(f);
    return !m || m[1]!.toLowerCase() !== id;
  });
  if (kept.length === fields.length) return message;
  return Buffer.concat([Buffer.from(kept.join('\r\n'), 'latin1'), message.subarray(end)]);
}
