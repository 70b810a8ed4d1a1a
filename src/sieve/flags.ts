// IMAP flags as Sieve scripts name them (RFC 5232 3): space-separated lists,
// case-insensitive, system flags with a backslash, keywords as IMAP atoms.

const SYSTEM: Record<string, string> = {
  '\\seen': '\\Seen',
  '\\answered': '\\Answered',
  '\\flagged': '\\Flagged',
  '\\deleted': '\\Deleted',
  '\\draft': '\\Draft',
};

const MAX_FLAGS = 64;

/** Splits, de-duplicates (case-insensitively) and drops what is not a valid flag. */
export function normalizeFlags(lists: string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const list of lists) {
    for (const word of list.split(/\s+/)) {
      if (word === '') continue;
      const lower = word.toLowerCase();
      const flag = word.startsWith('\\') ? SYSTEM[lower] : /^[!#$&'+\-.0-9:<=>?@A-Z^_`a-z|~]{1,64}$/.test(word) ? word : undefined;
      if (flag === undefined || seen.has(lower) || out.length >= MAX_FLAGS) continue;
      seen.add(lower);
      out.push(flag);
    }
  }
  return out;
}

/** Splits normalized flags into the store's system flags and keywords. */
export function splitFlags(flags: string[]): { system: Array<'\\Seen' | '\\Answered' | '\\Flagged' | '\\Deleted' | '\\Draft'>; keywords: string[] } {
  const system = flags.filter((f) => f.startsWith('\\')) as Array<'\\Seen' | '\\Answered' | '\\Flagged' | '\\Deleted' | '\\Draft'>;
  return { system, keywords: flags.filter((f) => !f.startsWith('\\')) };
}
