// The one place that reaches into smtp-server beyond its public options. The library
// picks enhanced status codes (RFC 3463) from the basic code alone and has no
// per-connection policy for AUTH without TLS; Steadymail needs both, so this module
// adjusts SMTPConnection once, in ways that change nothing for sessions that did not
// opt in:
// - a reply text that starts with an enhanced code keeps it (RFC 2034 3: one code
//   per reply) instead of getting the library's guess prepended;
// - a session marked "no plaintext AUTH" does not see AUTH in EHLO before TLS and
//   gets 538 5.7.11 (RFC 4954 6) if it tries, before any credentials are sent;
// - a session given an observer (src/sessions) reports each command line (AUTH payloads
//   masked) and each reply to it;
// - on a server given a command timeout, a line (command or DATA line) not completed
//   within it ends the connection with 421 4.4.2 (the slowloris defence; the library's
//   idle timeout restarts with every byte).

import { LineDeadline } from '../net/line-deadline.js';
import { maskSmtp } from '../sessions/mask.js';
import type { SessionObserver } from '../sessions/recorder.js';

import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPServerSession } from 'smtp-server';

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;
const plaintextAuthRefused = new WeakSet<SMTPServerSession>();
const commandTimeouts = new WeakMap<object, number>();

/** Sets the command timeout of the connections of `server` (an SMTPServer). */
export function setCommandTimeout(server: object, ms: number): void {
  commandTimeouts.set(server, ms);
}
let patched = false;
const observers = new WeakMap<SMTPServerSession, SessionObserver>();

/** The observer that hears this session's commands and replies. */
export function observeSession(session: SMTPServerSession, observer: SessionObserver): void {
  observers.set(session, observer);
}

export function observerOf(session: SMTPServerSession): SessionObserver | undefined {
  return observers.get(session);
}

/** Marks a session whose client must start TLS before AUTH (RFC 3207, RFC 4954 4). */
export function refusePlaintextAuth(session: SMTPServerSession, refuse: boolean): void {
  if (refuse) plaintextAuthRefused.add(session);
  else plaintextAuthRefused.delete(session);
}

export function patchSmtpServer(): void {
  if (patched) return;
  patched = true;
  const proto = SMTPConnection.prototype;

  // eslint-disable-next-line @typescript-eslint/unbound-method -- always called with .call(this)
  const send = proto.send;
  proto.send = function (this: SMTPConnection, code, data, context) {
    const observer = observers.get(this.session);
    if (observer) {
      const text = Array.isArray(data) ? data.join('\n') : (data ?? '');
      if (code === 421) observer.hint(/timeout/i.test(text) ? 'timeout' : /shutting down/i.test(text) ? 'shutdown' : 'error');
      observer.reply(() => (Array.isArray(data) ? data.map((l, i) => `${code}${i < data.length - 1 ? '-' : ' '}${l}`).join('\n') : `${code} ${text}`), code >= 500 ? '5xx' : code >= 400 ? '4xx' : undefined);
    }
    if (typeof data === 'string' && ENHANCED.test(data)) return send.call(this, code, data, false);
    return send.call(this, code, data, context);
  };

  // eslint-disable-next-line @typescript-eslint/unbound-method -- always called with .call(this)
  const onCommand = proto._onCommand;
  proto._onCommand = function (this: SMTPConnection, command, callback) {
    const observer = observers.get(this.session);
    if (observer) {
      const line = (command ?? Buffer.alloc(0)).toString();
      if (this._nextHandler) {
        observer.clientLine(() => maskSmtp(line, true));
      } else {
        const name = /^\S*/.exec(line)?.[0] ?? '';
        observer.command(name, () => maskSmtp(line, false));
        const upper = name.toUpperCase();
        if (upper === 'QUIT') observer.hint('quit');
        else if (upper === 'EHLO' || upper === 'HELO') observer.setClientId(line.slice(name.length).trim());
      }
    }
    return onCommand.call(this, command, callback);
  };

  // eslint-disable-next-line @typescript-eslint/unbound-method -- always called with .call(this)
  const ehlo = proto.handler_EHLO;
  proto.handler_EHLO = function (this: SMTPConnection, command, callback) {
    const session = this.session;
    if (this.secure || !plaintextAuthRefused.has(session)) return ehlo.call(this, command, callback);
    const before = session.disabledCommands;
    session.disabledCommands = [...this._server.options.disabledCommands, 'AUTH'];
    try {
      ehlo.call(this, command, callback);
    } finally {
      session.disabledCommands = before;
    }
  };

  // eslint-disable-next-line @typescript-eslint/unbound-method -- always called with .call(this)
  const createParser = proto._createParser;
  proto._createParser = function (this: SMTPConnection) {
    const parser = createParser.call(this);
    const ms = commandTimeouts.get(this._server);
    if (ms === undefined) return parser;
    const deadline = new LineDeadline(ms, () => {
      this.send(421, `4.4.2 ${this.name} Error: timeout exceeded; command not completed in time`);
      this.close();
    });
    const write = parser.write.bind(parser) as (chunk: unknown, ...rest: unknown[]) => boolean;
    parser.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (Buffer.isBuffer(chunk)) deadline.feed(chunk);
      return write(chunk, ...rest);
    }) as typeof parser.write;
    parser.once('finish', () => deadline.stop());
    parser.once('close', () => deadline.stop());
    this._socket.once('close', () => deadline.stop());
    return parser;
  };

  // eslint-disable-next-line @typescript-eslint/unbound-method -- always called with .call(this)
  const auth = proto.handler_AUTH;
  proto.handler_AUTH = function (this: SMTPConnection, command, callback) {
    if (!this.secure && plaintextAuthRefused.has(this.session)) {
      this.send(538, '5.7.11 Encryption required: issue STARTTLS first');
      callback();
      return;
    }
    auth.call(this, command, callback);
  };
}
