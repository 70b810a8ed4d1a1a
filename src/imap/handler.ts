// The contract between the session and one command handler: a handler gets the
// parsed command and a context, yields untagged response bytes (so large FETCH
// output is written with backpressure) and returns how the tagged OK reads.
// It never touches the socket.

import type { Store } from '../store/store.js';
import type { ImapCommand, ImapCommandName } from './parser/index.js';
import type { ImapOptions } from './options.js';
import type { Session } from './session.js';

export interface Done {
  /** Text of the tagged OK; default "<COMMAND> completed". */
  text?: string;
  /** Response code of the tagged OK, without brackets. */
  code?: string;
  /**
   * What the connection does after the tagged OK: upgrade to TLS, close, or
   * (IDLE) wait for DONE before sending the tagged OK itself.
   */
  after?: 'starttls' | 'logout' | 'idle' | 'compress';
}

export type Reply = AsyncGenerator<Buffer, Done | undefined, undefined>;

export interface CommandContext {
  session: Session;
  store: Store;
  options: ImapOptions;
  /**
   * SASL exchange (RFC 9051 6.2.2): sends `+ base64(data)` and resolves with the
   * client's decoded answer. Throws ProtocolError when the client cancels.
   */
  challenge(data: Buffer): Promise<Buffer>;
}

/** A handler that sends untagged data yields it; one that only acts returns its Done. */
export type Handler<C> = (cmd: C, ctx: CommandContext) => Reply | Promise<Done | undefined>;

/**
 * One command of the union, by name. Unlike the parser's CommandOf, this also
 * narrows members that share one shape for several names (DELETE/SUBSCRIBE/UNSUBSCRIBE).
 */
export type Cmd<N extends ImapCommandName> = ImapCommand & { name: N };
