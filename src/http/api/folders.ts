// Folder list with counts, create / rename / delete, empty Trash or Junk.

import type { FastifyInstance } from 'fastify';
import { AlreadyExists, InvalidInput, NotFound } from '../../store/errors.js';
import type { Mailbox } from '../../store/types.js';
import { ApiFailure, body, folderIdOf, ownedMailbox, specialUseName, type ApiContext } from './common.js';
import { auth } from './session.js';
import type { EmptyFolderResponse, Folder, FolderListResponse, OkResponse } from './types.js';

const ORDER: Record<string, number> = { inbox: 0, drafts: 1, sent: 2, archive: 3, junk: 4, trash: 5 };

export function toFolder(box: Mailbox): Folder {
  const slash = box.name.lastIndexOf('/');
  return {
    id: folderIdOf(box.id),
    name: box.name,
    displayName: slash < 0 ? box.name : box.name.slice(slash + 1),
    parent: slash < 0 ? null : box.name.slice(0, slash),
    specialUse: specialUseName(box),
    total: box.messages,
    unread: box.unseen,
    bytes: box.bytes,
    subscribed: box.subscribed,
  };
}

export function sortFolders(folders: Folder[]): Folder[] {
  const rank = (f: Folder) => (f.specialUse !== null && f.parent === null ? (ORDER[f.specialUse] ?? 6) : 7);
  return folders.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/** RFC 3501 mailbox names here: `/`-delimited, no empty components, no control characters, no wildcards. */
export function checkFolderName(name: unknown): string {
  if (typeof name !== 'string') throw new ApiFailure(400, 'invalid-name', 'a folder name is required');
  const n = name.normalize('NFC').trim();
  // eslint-disable-next-line no-control-regex
  if (n === '' || n.length > 500 || /[\x00-\x1f\x7f*%]/.test(n) || n.split('/').some((c) => c.trim() === '')) {
    throw new ApiFailure(400, 'invalid-name', 'folder names may not be empty or contain control characters, * or %');
  }
  if (n.toUpperCase() === 'INBOX' || n.toUpperCase().startsWith('INBOX/')) {
    return 'INBOX' + n.slice(5);
  }
  return n;
}

function mapStoreError(err: unknown): never {
  if (err instanceof AlreadyExists) throw new ApiFailure(409, 'exists', 'a folder with that name exists');
  if (err instanceof NotFound) throw new ApiFailure(404, 'not-found', 'no such item');
  if (err instanceof InvalidInput) throw new ApiFailure(400, 'invalid-name', err.message);
  throw err;
}

export function folderRoutes(api: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx;

  api.get('/folders', async (request): Promise<FolderListResponse> => {
    const boxes = await store.listMailboxes(auth(request).account.id);
    return { folders: sortFolders(boxes.map(toFolder)) };
  });

  api.post('/folders', async (request, reply): Promise<Folder> => {
    const accountId = auth(request).account.id;
    const name = checkFolderName(body(request)['name']);
    if (name === 'INBOX') throw new ApiFailure(409, 'exists', 'a folder with that name exists');
    const parts = name.split('/');
    // Missing parents are created too, as IMAP CREATE does (RFC 9051 6.3.4).
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (!(await store.getMailbox(accountId, parent))) await store.createMailbox(accountId, parent).catch((e: unknown) => (e instanceof AlreadyExists ? undefined : mapStoreError(e)));
    }
    const box = await store.createMailbox(accountId, name).catch(mapStoreError);
    void reply.code(201);
    return toFolder(box);
  });

  api.patch('/folders/:folderId', async (request): Promise<Folder> => {
    const accountId = auth(request).account.id;
    const box = await ownedMailbox(store, accountId, (request.params as { folderId: string }).folderId);
    const name = checkFolderName(body(request)['name']);
    if (box.specialUse !== null) throw new ApiFailure(400, 'protected', 'special folders cannot be renamed');
    if (name === box.name) return toFolder(box);
    if (name === 'INBOX' || name.startsWith(box.name + '/')) throw new ApiFailure(400, 'invalid-name', 'a folder cannot be moved into itself or onto INBOX');
    if (await store.getMailbox(accountId, name)) throw new ApiFailure(409, 'exists', 'a folder with that name exists');
    await store.renameMailbox(accountId, box.name, name).catch(mapStoreError);
    const renamed = await store.getMailbox(accountId, name);
    if (!renamed) throw new ApiFailure(404, 'not-found', 'no such item');
    return toFolder(renamed);
  });

  api.delete('/folders/:folderId', async (request): Promise<OkResponse> => {
    const { account } = auth(request);
    const box = await ownedMailbox(store, account.id, (request.params as { folderId: string }).folderId);
    if (box.name === 'INBOX' || box.specialUse !== null) throw new ApiFailure(400, 'protected', 'INBOX and special folders cannot be deleted');
    // Children go with their parent, deepest first.
    const children = (await store.listMailboxes(account.id)).filter((b) => b.name.startsWith(box.name + '/')).sort((a, b) => b.name.length - a.name.length);
    const audit = { actor: `webmail:${account.address}`, reason: 'folder deleted in webmail' };
    for (const c of children) await store.deleteMailbox(account.id, c.name, audit).catch(mapStoreError);
    await store.deleteMailbox(account.id, box.name, audit).catch(mapStoreError);
    return { ok: true };
  });

  api.post('/folders/:folderId/empty', async (request): Promise<EmptyFolderResponse> => {
    const { account } = auth(request);
    const box = await ownedMailbox(store, account.id, (request.params as { folderId: string }).folderId);
    if (box.specialUse !== '\\Trash' && box.specialUse !== '\\Junk') throw new ApiFailure(400, 'protected', 'only Trash and Junk can be emptied');
    let removed = 0;
    const audit = { actor: `webmail:${account.address}`, reason: `${box.name} emptied in webmail` };
    // In slices, so a huge Trash never sits in memory at once.
    for (;;) {
      const page = await store.webmail.pageMessages(box.id, { sort: 'date', descending: false, offset: 0, limit: 1000 });
      if (page.messages.length === 0) break;
      const gone = await store.expungeMessages(box.id, page.messages.map((m) => m.uid), audit);
      removed += gone.length;
      if (gone.length === 0) break;
    }
    return { removed };
  });
}
