// Date parts for the "date" and "currentdate" tests (RFC 5260 4-5).

import { parseDate } from '../mime/index.js';
import type { DatePart } from './grammar.js';

export interface ZonedDate {
  /** Epoch milliseconds. */
  time: number;
  /** Offset from UTC in minutes. */
  offset: number;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "+hhmm" / "-hhmm" as minutes. */
export function parseZone(zone: string): number | null {
  const m = /^([+-])(\d{2})(\d{2})$/.exec(zone.trim());
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}

/** An RFC 5322 date header value with the zone it was written in. */
export function parseHeaderDate(value: string): ZonedDate | null {
  const time = parseDate(value);
  if (time === null) return null;
  const zone = /([+-]\d{4})\s*(?:\([^)]*\))?\s*$/.exec(value);
  return { time, offset: zone ? (parseZone(zone[1]!) ?? 0) : 0 };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function zoneText(offset: number): string {
  const a = Math.abs(offset);
  return `${offset < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}

export function datePart(d: ZonedDate, part: DatePart): string {
  // Shift to the zone and read the UTC fields of the shifted instant.
  const t = new Date(d.time + d.offset * 60_000);
  const Y = pad(t.getUTCFullYear(), 4);
  const M = pad(t.getUTCMonth() + 1);
  const D = pad(t.getUTCDate());
  const h = pad(t.getUTCHours());
  const m = pad(t.getUTCMinutes());
  const s = pad(t.getUTCSeconds());
  switch (part) {
    case 'year':
      return Y;
    case 'month':
      return M;
    case 'day':
      return D;
    case 'date':
      return `${Y}-${M}-${D}`;
    case 'julian':
      // Modified Julian Day: days since 1858-11-17.
      return String(Math.floor((Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()) - Date.UTC(1858, 10, 17)) / 86_400_000));
    case 'hour':
      return h;
    case 'minute':
      return m;
    case 'second':
      return s;
    case 'time':
      return `${h}:${m}:${s}`;
    case 'iso8601': {
      const z = zoneText(d.offset);
      return `${Y}-${M}-${D}T${h}:${m}:${s}${z.slice(0, 3)}:${z.slice(3)}`;
    }
    case 'std11':
      return `${WEEKDAYS[t.getUTCDay()]}, ${t.getUTCDate()} ${MONTHS[t.getUTCMonth()]} ${Y} ${h}:${m}:${s} ${zoneText(d.offset)}`;
    case 'zone':
      return zoneText(d.offset);
    case 'weekday':
      return String(t.getUTCDay());
  }
}
