// Password hashing: argon2id in PHC string form. @node-rs/argon2's async functions run
// on libuv's thread pool, so a login never blocks the event loop.
import { hash, verify, type Algorithm } from '@node-rs/argon2';

// The package declares Algorithm as a const enum, which isolatedModules cannot inline.
const ARGON2ID = 2 as Algorithm;

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. */
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export async function hashPassword(password: string): Promise<string> {
  if (password === '') throw new Error('refusing to hash an empty password');
  return hash(password, OPTIONS);
}

/** False for a wrong password and for a hash that is not a valid argon2 PHC string. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  if (!passwordHash.startsWith('$argon2')) return false;
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}
