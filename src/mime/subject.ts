// RFC 5256 2.1 base subject, used by SORT SUBJECT and THREAD=ORDEREDSUBJECT/REFERENCES.
import { decodeMimeWords } from './encoded-words.js';

// subj-leader (RFC 5256 5): *subj-blob subj-refwd, where
// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":".
const REFWD = /^(?:\[[^[\]]*\] *)*(?:re|fwd?) *(?:\[[^[\]]*\] *)?:/i;
const BLOB = /^\[[^[\]]*\] */;
const TRAILER = /(?:\(fwd\)| )$/i;

export interface BaseSubject {
  subject: string;
  /** A reply/forward marker was removed (RFC 5256 2.1 steps 2, 3 and 6). */
  isReplyOrForward: boolean;
}

export function baseSubject(raw: string): BaseSubject {
  // Step 1: decode, then collapse every run of whitespace to one space.
  let s = decodeMimeWords(raw).replace(/[ \t\r\n]+/g, ' ');
  let marked = false;
  for (;;) {
    // Step 2: trailing "(fwd)" and whitespace.
    for (let m = TRAILER.exec(s); m !== null; m = TRAILER.exec(s)) {
      if (m[0] !== ' ') marked = true;
      s = s.slice(0, s.length - m[0].length);
    }
    // Steps 3-5: leaders and blobs, until nothing changes.
    for (;;) {
      const before = s;
      s = s.replace(/^ +/, '');
      const m = REFWD.exec(s);
      if (m !== null) {
        marked = true;
        s = s.slice(m[0].length);
      }
      const b = BLOB.exec(s);
      if (b !== null && s.length > b[0].length) s = s.slice(b[0].length);
      if (s === before) break;
    }
    // Step 6: a "[fwd: …]" wrapper.
    if (s.length >= 6 && s.slice(0, 5).toLowerCase() === '[fwd:' && s.endsWith(']')) {
      s = s.slice(5, -1);
      marked = true;
      continue;
    }
    break;
  }
  return { subject: s, isReplyOrForward: marked };
}
