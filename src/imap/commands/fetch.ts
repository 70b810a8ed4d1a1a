// RFC 9051 6.4.5 FETCH (and UID FETCH 6.4.9), RFC 3516 BINARY, RFC 7162
// CHANGEDSINCE / VANISHED. ENVELOPE and BODYSTRUCTURE come from the index
// stored at delivery; body sections are byte ranges of the blob.
import type { FetchItem } from '../parser/index.js';
import { BlobMissing } from '../../store/blobs/blob-store.js';
import { resolveSequenceSet } from '../parser/index.js';
import type { MessageMeta } from '../../store/types.js';
import { formatBodyStructure, formatEnvelope, indexMessage, readMessageIndex, type MessageIndex } from '../../mime/index.js';
import { bad } from '../errors.js';
import { MessageBytes, binarySection, bodySection, sectionRange } from '../fetch-body.js';
import type { Cmd, CommandContext, Reply } from '../handler.js';
import type { MailboxView } from '../mailbox-view.js';
import { emailObjectId, threadObjectId } from '../object-id.js';
import { flagList, formatInternalDate, formatSequenceSet, literal, untagged } from '../respond.js';

/** Messages read from the store per round trip. */
const BATCH = 200;

const NEEDS_INDEX = new Set(['THREADID', 'ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'BODY[]', 'BINARY', 'BINARY.SIZE', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT']);

/** RFC 9051 6.4.5: BODY[...] without PEEK, RFC822 and RFC822.TEXT set \Seen. */
function setsSeen(item: FetchItem): boolean {
  if (item.item === 'BODY[]' || item.item === 'BINARY') return !item.peek;
  return item.item === 'RFC822' || item.item === 'RFC822.TEXT';
}

export async function* fetch(cmd: Cmd<'FETCH'>, ctx: CommandContext): Reply {
  const s = ctx.session;
  const view = s.view();
  if (cmd.vanished && !s.qresync) throw bad('VANISHED needs QRESYNC enabled');
  if (cmd.changedSince !== null || cmd.items.some((i) => i.item === 'MODSEQ')) s.enabled.add('CONDSTORE');
  const uids = view.resolve(cmd.set, cmd.uid, s.savedSearch);
  if (cmd.vanished && cmd.changedSince !== null && cmd.set.kind === 'ranges') {
    // RFC 7162 3.2.6: UIDs in the requested set that were expunged since CHANGEDSINCE.
    const changes = await ctx.store.changesSince(view.mailboxId, cmd.changedSince);
    const spans = resolveSequenceSet(cmd.set.ranges, view.highestUid, false);
    const gone = changes.vanished.filter((u) => view.msnOf(u) === 0 && spans.some(([a, b]) => u >= a && u <= b));
    if (gone.length > 0) yield untagged(`VANISHED (EARLIER) ${formatSequenceSet(gone)}`);
  }
  const markSeen = !view.readOnly && cmd.items.some(setsSeen);
  let missing = 0;
  for (let i = 0; i < uids.length; i += BATCH) {
    const batch = uids.slice(i, i + BATCH);
    let metas = await ctx.store.getMessages(view.mailboxId, batch);
    missing += batch.length - metas.length;
    metas.sort((a, b) => a.uid - b.uid);
    if (cmd.changedSince !== null) metas = metas.filter((m) => m.modseq > (cmd.changedSince ?? 0));
    const seenNow = new Set<number>();
    if (markSeen) {
      const unseen = metas.filter((m) => !m.flags.includes('\\Seen')).map((m) => m.uid);
      if (unseen.length > 0) {
        const r = await ctx.store.updateFlags(view.mailboxId, { uids: unseen, operation: 'add', flags: ['\\Seen'], keywords: [] });
        const byUid = new Map(r.changed.map((c) => [c.uid, c]));
        metas = metas.map((m) => {
          const c = byUid.get(m.uid);
          if (!c) return m;
          seenNow.add(m.uid);
          return { ...m, flags: c.flags, keywords: c.keywords, modseq: c.modseq };
        });
      }
    }
    for (const m of metas) {
      if (view.msnOf(m.uid) === 0) continue;
      yield* fetchResponse(ctx, view, cmd, m, seenNow.has(m.uid));
    }
  }
  // Messages another session expunged keep their numbers until we may say so (RFC 9051 7.5.1).
  if (missing > 0 && !cmd.uid) return { code: 'EXPUNGEISSUED', text: 'Some messages were expunged meanwhile' };
  return undefined;
}

async function loadIndex(ctx: CommandContext, m: MessageMeta): Promise<MessageIndex> {
  // An index written by an older format version is recomputed from the blob.
  return readMessageIndex(m.structure) ?? indexMessage(await ctx.store.blobs.get(m.blobId));
}

function partialOf(bytes: Buffer | null, partial: { offset: number; length: number } | null): { data: Buffer | null; origin: string } {
  if (bytes === null || partial === null) return { data: bytes, origin: '' };
  return { data: bytes.subarray(partial.offset, partial.offset + partial.length), origin: `<${partial.offset}>` };
}

/**
 * One message's FETCH response. Large literals that are plain byte ranges of
 * the blob (BODY[], BODY[TEXT], BODY[1], RFC822, ...) are streamed from the blob
 * in chunks, so the connection's backpressure applies and memory stays flat.
 */
async function* fetchResponse(ctx: CommandContext, view: MailboxView, cmd: Cmd<'FETCH'>, m: MessageMeta, seenChanged: boolean): AsyncGenerator<Buffer, void, undefined> {
  const s = ctx.session;
  let parts: Array<string | Buffer> = [`* ${view.msnOf(m.uid)} FETCH (`];
  let first = true;
  const add = (...p: Array<string | Buffer>): void => {
    if (!first) parts.push(' ');
    first = false;
    parts.push(...p);
  };
  const takeParts = (): Buffer => {
    const b = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
    parts = [];
    return b;
  };
  const f = { flags: m.flags, keywords: m.keywords, modseq: m.modseq };
  view.setFlags(m.uid, f);
  const items = cmd.items;
  const wantsFlags = seenChanged || items.some((i) => i.item === 'FLAGS');
  let modseqSent = false;
  if (cmd.uid || s.qresync || items.some((i) => i.item === 'UID')) add(`UID ${m.uid}`);
  const index = items.some((i) => NEEDS_INDEX.has(i.item)) ? await loadIndex(ctx, m) : null;
  const bytes = new MessageBytes(
    (range) => (range ? ctx.store.blobs.getRange(m.blobId, range) : ctx.store.blobs.get(m.blobId)),
    index?.root.bodyStart ?? 0,
  );
  const need = (): MessageIndex => {
    if (!index) throw new Error('index not loaded');
    return index;
  };
  if (wantsFlags) add(`FLAGS ${flagList(view.flagNames(m.uid, m))}`);
  for (const item of items) {
    switch (item.item) {
      case 'UID':
      case 'FLAGS':
        break;
      case 'INTERNALDATE':
        add(`INTERNALDATE ${formatInternalDate(m.internalDate)}`);
        break;
      case 'RFC822.SIZE':
        add(`RFC822.SIZE ${m.size}`);
        break;
      case 'ENVELOPE':
        add(Buffer.from(`ENVELOPE ${formatEnvelope(need())}`, 'utf8'));
        break;
      case 'BODYSTRUCTURE':
        add(Buffer.from(`BODYSTRUCTURE ${formatBodyStructure(need(), true)}`, 'utf8'));
        break;
      case 'BODY':
        add(Buffer.from(`BODY ${formatBodyStructure(need(), false)}`, 'utf8'));
        break;
      case 'MODSEQ':
        add(`MODSEQ (${m.modseq})`);
        modseqSent = true;
        break;
      case 'SAVEDATE':
        add('SAVEDATE NIL');
        break;
      case 'EMAILID':
      {
        // RFC 8474 5.1 / 5.2.
        const id = emailObjectId(m);
        add(id === null ? 'EMAILID NIL' : `EMAILID (${id})`);
        break;
      }
      case 'THREADID':
        add(`THREADID (${threadObjectId(m, index)})`);
        break;
      case 'RFC822':
        if (m.size >= STREAM_MIN) {
          await assertBlobPresent(ctx, m.blobId);
          add(`RFC822 {${m.size}}\r\n`);
          yield takeParts();
          yield* streamRange(ctx, m.blobId, [0, m.size]);
          break;
        }
        add('RFC822 ', literal(await bytes.slice(0, m.size)));
        break;
      case 'RFC822.HEADER': {
        const root = need().root;
        add('RFC822.HEADER ', literal(await bytes.slice(root.headerStart, root.bodyStart)));
        break;
      }
      case 'RFC822.TEXT': {
        const root = need().root;
        add('RFC822.TEXT ', literal(await bytes.slice(root.bodyStart, root.bodyEnd)));
        break;
      }
      case 'BODY[]': {
        const range = partialRange(sectionRange(need(), item.section), item.partial);
        if (range && range[1] - range[0] >= STREAM_MIN) {
          await assertBlobPresent(ctx, m.blobId);
          add(`${item.label}${item.partial ? `<${item.partial.offset}>` : ''} {${range[1] - range[0]}}\r\n`);
          yield takeParts();
          yield* streamRange(ctx, m.blobId, range);
          break;
        }
        const { data, origin } = partialOf(await bodySection(bytes, need(), item.section), item.partial);
        add(`${item.label}${origin} `, data === null ? 'NIL' : literal(data));
        break;
      }
      case 'BINARY': {
        const { data, origin } = partialOf(await binarySection(bytes, need(), item.part), item.partial);
        // RFC 3516 4.2: literal8 when the content holds NUL.
        add(`${item.label}${origin} `, data === null ? 'NIL' : literal(data, data.includes(0)));
        break;
      }
      case 'BINARY.SIZE': {
        const data = await binarySection(bytes, need(), item.part);
        add(`${item.label} ${data === null ? 'NIL' : data.length}`);
        break;
      }
    }
  }
  // RFC 7162 3.1.4.1 / 3.1.4: MODSEQ comes with CHANGEDSINCE and with FLAGS once CONDSTORE is on.
  if (!modseqSent && (cmd.changedSince !== null || (s.condstore && wantsFlags))) add(`MODSEQ (${m.modseq})`);
  parts.push(')\r\n');
  yield takeParts();
}

/** Literals at least this large are streamed from the blob instead of read whole. */
const STREAM_MIN = 256 * 1024;

/** The byte range a partial `<offset.length>` selects from a section's range. */
function partialRange(range: [number, number] | null, partial: { offset: number; length: number } | null): [number, number] | null {
  if (range === null || partial === null) return range;
  const start = Math.min(range[0] + partial.offset, range[1]);
  return [start, Math.min(start + partial.length, range[1])];
}

/**
 * Once a literal's length is on the wire, a missing body can only end the
 * connection; checking first lets the command answer NO instead.
 */
async function assertBlobPresent(ctx: CommandContext, blobId: string): Promise<void> {
  if (!(await ctx.store.blobs.stat(blobId))) throw new BlobMissing(blobId);
}

async function* streamRange(ctx: CommandContext, blobId: string, [start, end]: [number, number]): AsyncGenerator<Buffer, void, undefined> {
  if (end <= start) return;
  for await (const chunk of ctx.store.blobs.createReadStream(blobId, { start, end: end - 1 })) {
    yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
  }
}
