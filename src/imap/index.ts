// The IMAP server (issue 5). Everything arrives by injection: the store, the
// authenticator, TLS material, limits. See docs/imap.md.
export { createImapServer, type ImapServer } from './server.js';
export type { ImapOptions, ImapLimits, ImapLogger, ImapTls, AuthResult } from './options.js';
