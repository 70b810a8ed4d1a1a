// Admin API tests: the real server (startServer) on 127.0.0.1 port 0 over a fresh SQLite
// store, an admin account and a mailbox user in it, spoken to with fetch.
import { hash } from '@node-rs/argon2';
import { createAdminToken } from '../../src/auth/admin.js';
import { startApiServer, type ApiServer } from '../webmail/api-harness.js';

/** Argon2 with small parameters: tests need speed, not strength. */
export const HASH_OPTS = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export interface AdminServer extends ApiServer {
  token: string;
  tokenId: string;
}

export async function startAdminServer(env: Record<string, string> = {}): Promise<AdminServer> {
  const api = await startApiServer({ 'user@mail.test': 'userpw' }, env);
  await api.store.admin.createAdmin('root', await hash('rootpw', HASH_OPTS));
  const { token, secret } = await createAdminToken(api.store, 'tests', 'test');
  return { ...api, token: secret, tokenId: token.id };
}

export interface Reply<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** An admin API client: a cookie session (with its CSRF token) or a bearer token. */
export class AdminClient {
  cookie = '';
  csrf = '';
  bearer = '';
  constructor(readonly base: string) {}

  static withToken(base: string, token: string): AdminClient {
    const c = new AdminClient(base);
    c.bearer = token;
    return c;
  }

  static async signIn(base: string, name: string, password: string): Promise<AdminClient> {
    const c = new AdminClient(base);
    const r = await c.call<{ csrfToken: string }>('POST', '/api/admin/session', { name, password });
    if (r.status !== 200) throw new Error(`sign-in failed: ${r.status} ${JSON.stringify(r.body)}`);
    c.csrf = r.body.csrfToken;
    return c;
  }

  async call<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.cookie) h['cookie'] = this.cookie;
    if (this.csrf && method !== 'GET') h['x-csrf-token'] ??= this.csrf;
    if (this.bearer) h['authorization'] = `Bearer ${this.bearer}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(this.base + path, { method, headers: h, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const set = res.headers.get('set-cookie');
    if (set) {
      const value = set.split(';')[0]!;
      this.cookie = value.endsWith('=') ? '' : value;
    }
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
  }

  async ok<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.call<T>(method, path, body);
    if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
}
