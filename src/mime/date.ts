// Date header parsing (RFC 5322 3.3 and the obsolete syntax of 4.3): optional
// day-of-week, two- and three-digit years, missing seconds, named and military
// zones, comments. Returns epoch milliseconds or null; never throws.

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};

/** RFC 5322 4.3 obs-zone, in minutes east of UTC. Military zones are "-0000" (unknown) there. */
const ZONES: Record<string, number> = {
  ut: 0, utc: 0, gmt: 0, z: 0,
  edt: -4 * 60, est: -5 * 60, cdt: -5 * 60, cst: -6 * 60,
  mdt: -6 * 60, mst: -7 * 60, pdt: -7 * 60, pst: -8 * 60,
  // Common non-standard ones seen in the wild.
  cet: 60, cest: 120, bst: 60, met: 60, mest: 120, eet: 120, eest: 180, jst: 9 * 60, ist: 5 * 60 + 30,
};

function stripComments(s: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '\\' && depth > 0) i++;
    else if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}

function zoneOffset(tok: string | undefined): number {
  if (tok === undefined) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(tok);
  if (m !== null) {
    const mins = Number(m[2]) * 60 + Number(m[3]);
    if (Number(m[3]) > 59) return 0;
    return m[1] === '-' ? -mins : mins;
  }
  return ZONES[tok.toLowerCase()] ?? 0;
}

/** Parses an RFC 5322 date-time; null when it cannot be read. */
export function parseDate(input: string): number | null {
  const s = stripComments(input).replace(/,/g, ' ').trim();
  const toks = s.split(/\s+/).filter((t) => t !== '');
  // Skip a leading day-of-week (any alphabetic word that is not a month).
  while (toks.length > 0 && /^[a-z]+\.?$/i.test(toks[0] as string) && MONTHS[(toks[0] as string).slice(0, 3).toLowerCase()] === undefined) toks.shift();
  let day: number | undefined;
  let month: number | undefined;
  let year: number | undefined;
  let i = 0;
  // "2 Jan 2024" (RFC 5322) or "Jan 2 2024" (asctime-like, seen from broken clients).
  const a = toks[0];
  const b = toks[1];
  const c = toks[2];
  if (a === undefined || b === undefined || c === undefined) return isoFallback(s);
  const monthOf = (t: string): number | undefined => MONTHS[t.slice(0, 3).toLowerCase()];
  if (/^\d{1,2}$/.test(a) && monthOf(b) !== undefined && /^[a-z]+\.?$/i.test(b)) {
    day = Number(a);
    month = monthOf(b);
    i = 2;
  } else if (/^[a-z]+\.?$/i.test(a) && monthOf(a) !== undefined && /^\d{1,2}$/.test(b)) {
    month = monthOf(a);
    day = Number(b);
    i = 2;
  } else if (/^\d{1,2}-[a-z]{3}-\d{2,4}$/i.test(a)) {
    // "02-Jan-2024" as in IMAP date-time, occasionally seen in Date headers.
    const [d, mo, y] = a.split('-') as [string, string, string];
    day = Number(d);
    month = monthOf(mo);
    toks.splice(0, 1, d, mo, y);
    i = 2;
  } else {
    return isoFallback(s);
  }
  // asctime puts the time before the year: "Jan 2 15:04:05 2024".
  let timeTok = toks[i + 1];
  let yearTok = toks[i];
  let rest = i + 2;
  if (yearTok !== undefined && yearTok.includes(':')) {
    timeTok = yearTok;
    yearTok = toks[i + 1];
  }
  if (yearTok === undefined || !/^\d{2,4}$/.test(yearTok)) return null;
  year = Number(yearTok);
  // RFC 5322 4.3: two-digit years below 50 are 20xx, others 19xx; three digits add 1900.
  if (yearTok.length === 2) year += year < 50 ? 2000 : 1900;
  else if (yearTok.length === 3) year += 1900;
  let hour = 0;
  let minute = 0;
  let second = 0;
  if (timeTok !== undefined) {
    const tm = /^(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\.\d+)?$/.exec(timeTok);
    if (tm === null) {
      rest = i + 1;
    } else {
      hour = Number(tm[1]);
      minute = Number(tm[2]);
      second = tm[3] === undefined ? 0 : Number(tm[3]);
    }
  }
  const zoneTok = toks[rest];
  if (month === undefined || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const t = Date.UTC(year, month, day, hour, minute, Math.min(second, 59)) - zoneOffset(zoneTok) * 60_000;
  // Date.UTC maps years 0-99 to 1900+; those were handled above, and day overflow is refused.
  if (!Number.isFinite(t) || new Date(Date.UTC(year, month, day)).getUTCDate() !== day) return null;
  return t;
}

function isoFallback(s: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) return null;
  const t = Date.parse(s.replace(' ', 'T'));
  return Number.isFinite(t) ? t : null;
}
