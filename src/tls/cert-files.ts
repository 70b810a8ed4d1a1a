// Where operator certificates are found on disk, and how a change to them is noticed.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateBlocks, keyBlock } from './pem.js';

/** A certificate file and its key file (the same path for a combined file); `id` is the certificate path. */
export interface FilePair {
  id: string;
  certPath: string;
  keyPath: string;
}

/** Identity of a file's content as far as stat tells: a replacement changes one of these. */
export async function fileStamp(path: string): Promise<string> {
  const s = await stat(path);
  return `${s.mtimeMs}:${s.size}:${s.ino}`;
}

/**
 * Pairs in a directory: `name.pem`/`name.crt`/`name.cert` beside `name.key`; a `.pem`
 * holding both certificate and key; a subdirectory with fullchain.pem and privkey.pem
 * (certbot's live/<name>/). Other files are ignored.
 */
export async function scanDirectory(dir: string): Promise<FilePair[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = new Set(entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name));
  const pairs: FilePair[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      const sub = new Set(await readdir(path).catch(() => [] as string[]));
      if (sub.has('fullchain.pem') && sub.has('privkey.pem')) {
        pairs.push({ id: join(path, 'fullchain.pem'), certPath: join(path, 'fullchain.pem'), keyPath: join(path, 'privkey.pem') });
      }
      continue;
    }
    const m = /^(.*)\.(pem|crt|cert)$/.exec(e.name);
    if (!m) continue;
    const keyName = `${m[1]}.key`;
    if (names.has(keyName)) {
      pairs.push({ id: path, certPath: path, keyPath: join(dir, keyName) });
    } else if (m[2] === 'pem') {
      // A combined file; a bare key or chain .pem is not a pair on its own.
      const text = await readFile(path, 'utf8').catch(() => '');
      if (certificateBlocks(text).length > 0 && keyBlock(text) !== undefined) pairs.push({ id: path, certPath: path, keyPath: path });
    }
  }
  return pairs;
}

