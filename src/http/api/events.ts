// Live updates: GET /api/events streams the account's ChangeBus events as
// server-sent events. The bus carries changes from every protocol, process and node.

import type { FastifyInstance } from 'fastify';
import type { ChangeEvent } from '../../store/store.js';
import { folderIdOf, type ApiContext } from './common.js';
import { auth } from './session.js';
import type { ServerEvent } from './types.js';

const PING_MS = 25_000;
/** A client that does not read is dropped rather than buffered without end. */
const MAX_BUFFERED = 1024 * 1024;

function toServerEvent(e: ChangeEvent): ServerEvent | null {
  // Mailbox and server annotations (IMAP METADATA) are not shown in the webmail.
  if (e.kind === 'metadata') return null;
  if ('mailboxId' in e) return { type: 'folder', folderId: folderIdOf(e.mailboxId), kind: e.kind, modseq: e.modseq };
  const kind = e.kind === 'mailbox-created' ? 'created' : e.kind === 'mailbox-deleted' ? 'deleted' : e.kind === 'mailbox-renamed' ? 'renamed' : 'subscription';
  return { type: 'folders', kind, name: e.name, ...(e.newName !== undefined ? { newName: e.newName } : {}) };
}

export function eventRoutes(api: FastifyInstance, ctx: ApiContext): void {
  const open = new Set<() => void>();
  // Streams never end on their own; on shutdown they are closed so the server can stop.
  api.addHook('onClose', async () => {
    for (const end of [...open]) end();
  });

  api.get('/events', async (request, reply) => {
    const { account, session } = auth(request);
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    let closed = false;
    const send = (text: string): void => {
      if (closed) return;
      if (res.writableLength > MAX_BUFFERED) {
        cleanup();
        res.destroy();
        return;
      }
      res.write(text);
    };
    const emit = (event: ServerEvent): void => send(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    const unsubscribe = ctx.store.bus.subscribe(account.id, (e) => {
      const ev = toServerEvent(e);
      if (ev) emit(ev);
    });
    // Each keep-alive also checks that the session still exists: a stream does not
    // outlive a sign-out or a password change elsewhere.
    const ping = setInterval(() => {
      ctx.store.webmail.getSessionByPublicId(session.publicId).then(
        (alive) => (alive ? send(': ping\n\n') : end()),
        () => send(': ping\n\n'),
      );
    }, PING_MS);
    ping.unref();
    const cleanup = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(ping);
      unsubscribe();
      open.delete(end);
    };
    const end = (): void => {
      cleanup();
      res.end();
    };
    open.add(end);
    res.on('close', cleanup);
    res.on('error', cleanup);
    // The retry hint and a first event, so the client knows it is subscribed.
    send('retry: 3000\n\n');
    emit({ type: 'ready' });
  });
}
