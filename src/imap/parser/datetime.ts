// date and date-time (RFC 9051 9).

import { bad } from './errors.js';
import type { Reader } from './reader.js';

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const MONTH_INDEX = new Map<string, number>(MONTHS.map((m, i) => [m.toUpperCase(), i + 1]));

/** A calendar day with no time or zone: SEARCH BEFORE/ON/SINCE compare dates only (RFC 9051 6.4.4). */
export interface ImapDate {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
}

function digits(r: Reader, min: number, max: number): number {
  const s = r.takeWhile((c) => c >= 0x30 && c <= 0x39);
  if (s.length < min || s.length > max) throw bad('Invalid date');
  return Number(s);
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : (DAYS[month - 1] ?? 31);
}

function month(r: Reader): number {
  const m = MONTH_INDEX.get(r.buf.toString('latin1', r.pos, r.pos + 3).toUpperCase());
  if (m === undefined) throw bad('Invalid month in date');
  r.pos += 3;
  return m;
}

function checkDay(year: number, m: number, day: number): void {
  if (day < 1 || day > daysInMonth(year, m)) throw bad('Invalid day in date');
}

/** date = date-text / DQUOTE date-text DQUOTE; date-text = date-day "-" date-month "-" date-year */
export function parseDate(r: Reader): ImapDate {
  const q = r.tryChar('"');
  const day = digits(r, 1, 2);
  r.expect('-');
  const m = month(r);
  r.expect('-');
  const year = digits(r, 4, 4);
  checkDay(year, m, day);
  if (q) r.expect('"');
  return { year, month: m, day };
}

/** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE */
export function parseDateTime(r: Reader): Date {
  r.expect('"');
  // date-day-fixed = (SP DIGIT) / 2DIGIT
  if (r.tryChar(' ')) {
    const c = r.peek();
    if (c === undefined || c < 0x30 || c > 0x39) throw bad('Invalid date-time');
  }
  const day = digits(r, 1, 2);
  r.expect('-');
  const m = month(r);
  r.expect('-');
  const year = digits(r, 4, 4);
  checkDay(year, m, day);
  r.expect(' ');
  const hh = digits(r, 2, 2);
  r.expect(':');
  const mm = digits(r, 2, 2);
  r.expect(':');
  const ss = digits(r, 2, 2);
  r.expect(' ');
  const sign = r.tryChar('+') ? 1 : r.tryChar('-') ? -1 : 0;
  if (sign === 0) throw bad('Invalid zone in date-time');
  const zone = digits(r, 4, 4);
  r.expect('"');
  const zh = Math.floor(zone / 100);
  const zm = zone % 100;
  if (hh > 23 || mm > 59 || ss > 60 || zh > 23 || zm > 59) throw bad('Invalid date-time');
  // A leap second (:60) is accepted and counted as :59 so the date cannot roll over.
  const d = new Date(Date.UTC(2000, m - 1, day, hh, mm, Math.min(ss, 59)));
  // Date.UTC maps years 0-99 to 1900-1999; set the year explicitly.
  d.setUTCFullYear(year, m - 1, day);
  return new Date(d.getTime() - sign * (zh * 60 + zm) * 60_000);
}
