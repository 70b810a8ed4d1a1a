// First start with nothing configured: so that `npm install && npm start` gives a server
// one can log in to, create a demo domain and account and write the credentials to
// data_dir/first-run.txt (mode 0600). The domain is under .test (RFC 2606), so it can
// never capture mail for a real domain. Nothing happens when a configuration file is
// in use, when any domain exists, or when first-run.txt already exists.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashPassword } from './auth/password.js';
import type { Config } from './config/index.js';
import type { Store } from './store/store.js';

export const DEMO_DOMAIN = 'steadymail.test';
export const DEMO_ADDRESS = `demo@${DEMO_DOMAIN}`;

export interface FirstRunCredentials {
  address: string;
  password: string;
  file: string;
}

export function firstRunFile(config: Pick<Config, 'dataDir'>): string {
  return join(config.dataDir, 'first-run.txt');
}

export async function readFirstRun(config: Pick<Config, 'dataDir'>): Promise<FirstRunCredentials | undefined> {
  const file = firstRunFile(config);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const address = /^address: (.+)$/m.exec(text)?.[1];
  const password = /^password: (.+)$/m.exec(text)?.[1];
  return address !== undefined && password !== undefined ? { address, password, file } : undefined;
}

/** Creates the demo domain and account when appropriate; returns the credentials if it did. */
export async function prepareFirstRun(store: Store, config: Config): Promise<FirstRunCredentials | undefined> {
  if (config.file !== null) return undefined;
  if ((await store.listDomains()).length > 0) return undefined;
  if ((await readFirstRun(config)) !== undefined) return undefined;

  const password = randomBytes(12).toString('base64url');
  const file = firstRunFile(config);
  // Written first (exclusively) so two processes starting at once cannot both proceed.
  await writeFile(
    file,
    [
      '# Steadymail created this demo account on its first start, because no domain existed.',
      '# Change the password with `steadymail user passwd demo@steadymail.test`, or remove',
      '# the demo with `steadymail domain remove steadymail.test --force`, and delete this file.',
      `address: ${DEMO_ADDRESS}`,
      `password: ${password}`,
      '',
    ].join('\n'),
    { mode: 0o600, flag: 'wx' },
  );
  await store.createDomain(DEMO_DOMAIN);
  await store.createAccount({ address: DEMO_ADDRESS, passwordHash: await hashPassword(password) });
  return { address: DEMO_ADDRESS, password, file };
}
