// Serves the built webmail SPA (dist/webmail, produced by `vite build webmail`) at /, and
// the operator console (dist/admin, `vite build admin-ui`) at /admin, the same way.
//
// Rules this file keeps:
// - Only the files present at start-up are served, from memory: a request path is looked
//   up in a map, never joined onto the file system (no traversal, no stat per request).
// - The app shell (index.html) is revalidated on every load (no-cache + ETag) so a new
//   release is picked up at once; Vite's content-hashed files under /assets/ are immutable.
// - The shell carries a strict CSP without 'unsafe-inline': scripts, styles and fetches
//   come from this origin only; message bodies are framed from the API (frame-src 'self'),
//   and nothing may frame the shell (clickjacking).
// - The SPA has no client-side routes, so / is its only page: it never shadows
//   /status, /metrics, /healthz or /api/. A route someone else registered first wins;
//   the colliding file is left out and logged.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpFeature } from './app.js';
import type { Config } from '../config/index.js';

/** dist/webmail from both src/http (tsx) and dist/http (compiled). */
export const DEFAULT_WEBMAIL_DIR = fileURLToPath(new URL('../../dist/webmail/', import.meta.url));
export const DEFAULT_ADMIN_DIR = fileURLToPath(new URL('../../dist/admin/', import.meta.url));

export const APP_SHELL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';

interface StaticFile {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  etag: string;
  cacheControl: string;
  shell: boolean;
}

function loadFile(path: string, urlPath: string, prefix: string): StaticFile {
  const body = readFileSync(path);
  const type = TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
  const compressible = /^(text\/|application\/(json|manifest)|image\/svg)/.test(type);
  const gz = compressible && body.length > 512 ? gzipSync(body, { level: 9 }) : undefined;
  const shell = urlPath === `${prefix}/`;
  return {
    body,
    gzip: gz && gz.length < body.length ? gz : undefined,
    type,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    // Hashed build output never changes under its name; anything else is revalidated.
    cacheControl: urlPath.startsWith(`${prefix}/assets/`) ? IMMUTABLE : 'no-cache',
    shell,
  };
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else out.push(path);
  }
}

export interface WebmailStaticOptions {
  /** The built SPA; DEFAULT_WEBMAIL_DIR unless a test points elsewhere. */
  dir?: string;
}

export function webmailStatic(options: WebmailStaticOptions = {}): HttpFeature {
  // [webmail] enabled = false turns off the API and, with it, the page that needs it.
  return spaStatic({ name: 'webmail', dir: options.dir ?? DEFAULT_WEBMAIL_DIR, prefix: '', enabled: (c) => c.webmail.enabled });
}

/** The operator console's SPA at /admin (its shell also at /admin/), off with [admin] enabled = false. */
export function adminStatic(options: WebmailStaticOptions = {}): HttpFeature {
  return spaStatic({ name: 'admin console', dir: options.dir ?? DEFAULT_ADMIN_DIR, prefix: '/admin', enabled: (c) => c.admin.enabled });
}

interface SpaMount {
  name: string;
  dir: string;
  /** '' (at /) or a path without a trailing slash. */
  prefix: string;
  enabled: (config: Config) => boolean;
}

function spaStatic(mount: SpaMount): HttpFeature {
  const { dir, prefix, name } = mount;
  return (app, context) => {
    if (!mount.enabled(context.config)) return;
    if (!existsSync(join(dir, 'index.html'))) {
      app.log.warn({ dir }, `${name}: no built SPA (run \`npm run build\`); not serving it`);
      return;
    }
    const files = new Map<string, StaticFile>();
    const paths: string[] = [];
    walk(dir, paths);
    for (const path of paths) {
      const rel = relative(dir, path).split(sep).join('/');
      const urlPath = rel === 'index.html' ? `${prefix}/` : `${prefix}/${rel}`;
      files.set(urlPath, loadFile(path, urlPath, prefix));
    }

    const send = (request: FastifyRequest, reply: FastifyReply, file: StaticFile): FastifyReply => {
      reply.header('Cache-Control', file.cacheControl);
      reply.header('ETag', file.etag);
      reply.header('X-Content-Type-Options', 'nosniff');
      reply.header('Vary', 'Accept-Encoding');
      if (file.shell) {
        reply.header('Content-Security-Policy', APP_SHELL_CSP);
        reply.header('X-Frame-Options', 'DENY');
        reply.header('Referrer-Policy', 'no-referrer');
        reply.header('Cross-Origin-Opener-Policy', 'same-origin');
        reply.header('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
      }
      reply.type(file.type);
      const match = request.headers['if-none-match'];
      if (match !== undefined && match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
        return reply.code(304).send();
      }
      const accepts = request.headers['accept-encoding'];
      if (file.gzip && typeof accepts === 'string' && /\bgzip\b/.test(accepts)) {
        reply.header('Content-Encoding', 'gzip');
        return reply.send(file.gzip);
      }
      return reply.send(file.body);
    };

    const served: string[] = [];
    const serve = (urlPath: string, file: StaticFile): void => {
      if (app.hasRoute({ method: 'GET', url: urlPath })) {
        app.log.warn({ path: urlPath }, `${name}: the path is taken by another route; not serving this file`);
        return;
      }
      app.get(urlPath, (request, reply) => send(request, reply, file));
      served.push(urlPath);
    };
    for (const [urlPath, file] of files) {
      if (urlPath.startsWith(`${prefix}/assets/`)) continue;
      serve(urlPath, file);
      // /admin as well as /admin/ (the SPA's relative asset paths are absolute, so both work).
      if (file.shell && prefix !== '') serve(prefix, file);
    }
    if (app.hasRoute({ method: 'GET', url: `${prefix}/assets/*` })) {
      app.log.warn(`${name}: ${prefix}/assets/ is taken by another route; not serving the SPA assets`);
    } else {
      app.get(`${prefix}/assets/*`, (request, reply) => {
        const file = files.get(request.url.split('?')[0] ?? '');
        if (!file || !file.cacheControl.startsWith('public')) {
          return reply.code(404).header('Cache-Control', 'no-store').type('text/plain; charset=utf-8').send('Not found\n');
        }
        return send(request, reply, file);
      });
    }
    app.log.debug({ dir, files: files.size, pages: served }, `${name}: serving the SPA`);
  };
}
