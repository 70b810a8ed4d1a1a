// RFC 5256 2.1 base subject, used by SORT SUBJECT and THREAD=ORDEREDSUBJECT/REFERENCES.
// Works with two indexes into the string instead of slicing it per step, so a
// subject made of thousands of "[x]" or "Re:" stays linear.
import { decodeMimeWords } from './encoded-words.js';

// subj-refwd (RFC 5256 5): ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"; sticky, tried at one index.
const REFWD = /(?:re|fwd?) *(?:\[[^[\]]*\] *)?:/iy;
// subj-blob: "[" *BLOBCHAR "]" *WSP
const BLOB = /\[[^[\]]*\] */y;

export interface BaseSubject {
  subject: string;
  /** A reply/forward marker was removed (RFC 5256 2.1 steps 2, 3 and 6). */
  isReplyOrForward: boolean;
}

export function baseSubject(raw: string): BaseSubject {
  // Step 1: decode, then collapse every run of whitespace to one space.
  const s = decodeMimeWords(raw).replace(/[ \t\r\n]+/g, ' ');
  let start = 0;
  let end = s.length;
  let marked = false;
  for (;;) {
    // Step 2: trailing "(fwd)" and whitespace.
    for (;;) {
      if (end > start && s.charCodeAt(end - 1) === 0x20) {
        end--;
      } else if (end - start >= 5 && s.slice(end - 5, end).toLowerCase() === '(fwd)') {
        end -= 5;
        marked = true;
      } else {
        break;
      }
    }
    // Steps 3-5: leading blanks, "re:"/"fw:"/"fwd:" leaders (with their blobs), and a
    // leading blob when something would remain after it. Removing "[blob] Re:" at once
    // (step 3) and "[blob]" then "Re:" (steps 4, 3) give the same result.
    for (;;) {
      while (start < end && s.charCodeAt(start) === 0x20) start++;
      REFWD.lastIndex = start;
      const m = REFWD.exec(s);
      if (m !== null && REFWD.lastIndex <= end) {
        start = REFWD.lastIndex;
        marked = true;
        continue;
      }
      BLOB.lastIndex = start;
      const b = BLOB.exec(s);
      if (b !== null && BLOB.lastIndex < end) {
        start = BLOB.lastIndex;
        continue;
      }
      break;
    }
    // Step 6: a "[fwd: …]" wrapper, then back to step 2.
    if (end - start >= 6 && s.slice(start, start + 5).toLowerCase() === '[fwd:' && s.charCodeAt(end - 1) === 0x5d) {
      start += 5;
      end -= 1;
      marked = true;
      continue;
    }
    break;
  }
  return { subject: s.slice(start, Math.max(start, end)), isReplyOrForward: marked };
}
