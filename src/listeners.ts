// Wires each protocol server to the configuration: the only place that knows
// both the Config shape and every protocol's options. Protocol folders never
// import each other or the config; they take what they need by injection.

import { readFileSync } from 'node:fs';
import type { ListenAddress, ListenerName } from './config/index.js';
import { formatAddress, plaintextAllowed } from './config/index.js';
import type { Listener, ServerContext } from './listener.js';
import { authenticate } from './auth/authenticator.js';
import { createSmtpListener } from './smtp/index.js';
import { createPop3Server } from './pop3/index.js';
import { createImapServer } from './imap/index.js';
import { createManageSieveServer } from './managesieve/index.js';
import { createOutboundQueue, type OutboundQueue } from './smtp/queue/index.js';
import { createFilterService, type FilterInput, type FilterService, type MailboxTransfer } from './filter/index.js';
import type { SieveDeliveryOptions } from './sieve/deliver-hook.js';
import { Srs, loadSrsSecret } from './sieve/srs.js';
import { checkSenderOwned } from './smtp/submission.js';
import { deliverMessage } from './smtp/deliver.js';
import { QuotaDeferrals, resolveRecipient, type ResolvedRecipient } from './smtp/recipients.js';
import { SmtpReply } from './smtp/replies.js';
import { SubmissionRefused, type Submission } from './http/api/submission.js';

/** What every protocol server returns; adapted here to the Listener shape. */
interface ProtocolServer {
  listen(host: string, port: number): Promise<{ address: string; port: number }>;
  close(graceMs: number): Promise<void>;
  connections?(): number;
}

function asListener(name: ListenerName, address: ListenAddress, create: () => ProtocolServer): Listener {
  let server: ProtocolServer | undefined;
  return {
    name,
    async start() {
      server = create();
      const bound = await server.listen(address.host, address.port);
      return { host: bound.address, port: bound.port };
    },
    async stop(graceMs) {
      await server?.close(graceMs);
    },
    connections: () => server?.connections?.(),
  };
}

/** The shared authenticator in the shape the SMTP and IMAP servers take. */
export function passwordAuthenticator(context: ServerContext) {
  return async (username: string, password: string, remoteAddress: string) => {
    const r = await authenticate(context.store, username, password, remoteAddress);
    return r.ok ? r : ({ ok: false, reason: r.failure, delayMs: r.delayMs } as const);
  };
}

function smtpFactory(kind: 'inbound' | 'submission' | 'submissions', name: ListenerName) {
  return (context: ServerContext, address: ListenAddress): Listener => {
    const { config } = context;
    const filter = context.filter;
    return asListener(name, address, () =>
      createSmtpListener(kind, {
        store: context.store,
        logger: context.logger,
        hostname: config.hostname,
        tls: context.certificates.listenerTls({ legacyVersions: config.tls.legacyVersionsOn.includes(name) }),
        limits: {
          maxMessageBytes: config.limits.maxMessageBytes,
          maxRecipients: config.smtp.maxRecipients,
          // SMTP lines stay short (RFC 5321 4.5.3.1.6 asks for 1000); a long line limit is for IMAP literals.
          maxLineBytes: Math.min(config.limits.maxLineBytes, 65536),
          maxConnectionsPerIp: config.limits.maxConnectionsPerIp,
          maxConnectionsPerIpPerMinute: config.smtp.maxConnectionsPerIpPerMinute,
          // RFC 5321 4.5.3.2.7: at least 5 minutes.
          idleTimeoutMs: Math.min(config.limits.idleTimeoutSeconds, 300) * 1000,
          commandTimeoutMs: config.limits.commandTimeoutSeconds * 1000,
          maxReceivedHeaders: config.smtp.maxReceivedHeaders,
        },
        dnsServers: config.dns.servers.map(formatAddress),
        dmarcRejectEnforced: config.smtp.dmarcReject,
        allowPlaintextAuth: (remote, secure) => plaintextAllowed(config, remote, secure),
        authenticate: passwordAuthenticator(context),
        copyToSent: config.smtp.copyToSent,
        sieve: sieveDelivery(config),
        srs: new Srs(loadSrsSecret(config.sieve.srsSecret, config.dataDir)),
        ...(config.smtp.postmaster !== null ? { postmaster: config.smtp.postmaster } : {}),
        ...(filter ? { filter: (input: FilterInput) => filter.inbound.check(input) } : {}),
        ...(context.sessions ? { sessions: context.sessions } : {}),
      }),
    );
  };
}

/** The `[sieve]` limits that apply at delivery. */
function sieveDelivery(config: ServerContext['config']): SieveDeliveryOptions {
  const s = config.sieve;
  return {
    limits: { maxActions: s.maxActions, maxRedirects: s.maxRedirects, maxTimeMs: s.maxExecutionMs, maxIncludeDepth: 5, maxVariableLength: 4096 },
    vacation: { minDays: s.vacationMinDays, maxDays: s.vacationMaxDays, defaultDays: s.vacationDefaultDays },
  };
}

/** What the POP3 and IMAP servers take alike from the context. */
function mailboxServerBase(context: ServerContext, implicitTls: boolean, name: ListenerName) {
  const { config } = context;
  return {
    store: context.store,
    logger: context.logger,
    hostname: config.hostname,
    tls: context.certificates.listenerTls({ legacyVersions: config.tls.legacyVersionsOn.includes(name) }),
    implicitTls,
    allowPlaintext: (remote: string, secure: boolean) => plaintextAllowed(config, remote, secure),
    ...(context.sessions ? { sessions: context.sessions } : {}),
  };
}

function pop3Factory(implicitTls: boolean, name: ListenerName) {
  return (context: ServerContext, address: ListenAddress): Listener => {
    const { config } = context;
    return asListener(name, address, () =>
      createPop3Server({
        ...mailboxServerBase(context, implicitTls, name),
        markSeenOnRetr: config.pop3.markSeen,
        ...(config.pop3.loginDelaySeconds > 0 ? { loginDelaySeconds: config.pop3.loginDelaySeconds } : {}),
        // RFC 1939 3: an autologout timer of at least 10 minutes.
        idleTimeoutMs: Math.min(config.limits.idleTimeoutSeconds, 600) * 1000,
        commandTimeoutMs: config.limits.commandTimeoutSeconds * 1000,
        maxLineBytes: Math.min(config.limits.maxLineBytes, 8192),
        maxConnectionsPerIp: config.limits.maxConnectionsPerIp,
      }),
    );
  };
}

function imapFactory(implicitTls: boolean, name: ListenerName) {
  return (context: ServerContext, address: ListenAddress): Listener => {
    const { config } = context;
    const filter = context.filter;
    return asListener(name, address, () =>
      createImapServer({
        ...mailboxServerBase(context, implicitTls, name),
        authenticate: passwordAuthenticator(context),
        ...(filter ? { onTransfer: (t: MailboxTransfer) => filter.learner.transferred(t) } : {}),
        limits: {
          maxLineBytes: config.limits.maxLineBytes,
          maxLiteralBytes: config.limits.maxLiteralBytes,
          // RFC 9051 5.4: at least 30 minutes of inactivity before an autologout.
          idleTimeoutMs: Math.max(config.limits.idleTimeoutSeconds, 1800) * 1000,
          commandTimeoutMs: config.limits.commandTimeoutSeconds * 1000,
          maxConnectionsPerIp: config.limits.maxConnectionsPerIp,
          metadataMaxEntryBytes: config.limits.imapMetadataMaxEntryBytes,
          metadataMaxEntries: config.limits.imapMetadataMaxEntries,
          notifyMaxPending: config.limits.imapNotifyMaxPending,
        },
      }),
    );
  };
}

function manageSieveFactory(context: ServerContext, address: ListenAddress): Listener {
  const { config } = context;
  return asListener('managesieve', address, () =>
    createManageSieveServer({
      store: context.store,
      logger: context.logger,
      hostname: config.hostname,
      tls: context.certificate.options,
      allowPlaintext: (remote, secure) => plaintextAllowed(config, remote, secure),
      maxScriptBytes: config.sieve.maxScriptBytes,
      maxScripts: config.sieve.maxScripts,
      maxRedirects: config.sieve.maxRedirects,
      idleTimeoutMs: config.limits.idleTimeoutSeconds * 1000,
      commandTimeoutMs: config.limits.commandTimeoutSeconds * 1000,
      maxLineBytes: Math.min(config.limits.maxLineBytes, 8192),
      maxConnectionsPerIp: config.limits.maxConnectionsPerIp,
      ...(context.sessions ? { sessions: context.sessions } : {}),
    }),
  );
}

export const PROTOCOL_LISTENERS: Partial<Record<ListenerName, (context: ServerContext, address: ListenAddress) => Listener>> = {
  smtp: smtpFactory('inbound', 'smtp'),
  submission: smtpFactory('submission', 'submission'),
  submissions: smtpFactory('submissions', 'submissions'),
  pop3: pop3Factory(false, 'pop3'),
  pop3s: pop3Factory(true, 'pop3s'),
  imap: imapFactory(false, 'imap'),
  imaps: imapFactory(true, 'imaps'),
  managesieve: manageSieveFactory,
};

/** The outbound queue worker, configured from `[outbound]` and `[dns]`; null when disabled. */
export function createOutbound(context: ServerContext): OutboundQueue | null {
  const { config } = context;
  const o = config.outbound;
  if (!o.enabled) return null;
  const relay = o.relay;
  return createOutboundQueue({
    store: context.store,
    logger: context.logger,
    hostname: config.hostname,
    dnsServers: config.dns.servers.map(formatAddress),
    ...(relay ? { relay: { host: relay.host, port: relay.port, ...(relay.auth ? { auth: relay.auth } : {}), requireTLS: relay.requireTls } } : {}),
    port: o.port,
    srs: new Srs(loadSrsSecret(config.sieve.srsSecret, config.dataDir)),
    maxAgeMs: o.maxAgeHours * 3_600_000,
    dataDir: config.dataDir,
    dkimSelector: o.dkimSelector,
    concurrency: o.concurrency,
    leaseMs: o.leaseSeconds * 1000,
    maxPerDestination: o.maxPerDestination,
    idleConnectionMs: o.idleConnectionSeconds * 1000,
    maxMessagesPerConnection: o.maxMessagesPerConnection,
    ...(o.tlsCaFile ? { extraCa: readFileSync(o.tlsCaFile, 'utf8') } : {}),
    ...(o.mtaSts ? { mtaSts: { port: o.mtaSts.port, timeoutMs: o.mtaSts.timeoutSeconds * 1000, maxBytes: o.mtaSts.maxPolicyBytes } } : {}),
    ...(context.counters ? { observer: context.counters.outbound } : {}),
  });
}

/** The inbound filter of this process, from `[filter]` and `[dns]`; null when disabled. */
export function createFilter(context: Pick<ServerContext, 'config' | 'store' | 'logger'>): FilterService | null {
  const { config } = context;
  if (!config.filter.enabled) return null;
  return createFilterService({ config: config.filter, store: context.store, logger: context.logger, hostname: config.hostname, dnsServers: config.dns.servers.map(formatAddress) });
}

/**
 * SMTP submission's steps for the webmail API (src/http/api/submission.ts): the same
 * sender check, recipient resolution and delivery as a message submitted over SMTP.
 */
export function webmailSubmission(context: Pick<ServerContext, 'config' | 'store' | 'logger'>): Submission {
  const { config, store, logger } = context;
  const deferrals = new QuotaDeferrals();
  const text = (r: SmtpReply) => r.message.replace(/^\d\.\d{1,3}\.\d{1,3} /, '');
  return {
    async checkSender(account, address) {
      try {
        await checkSenderOwned(store, account, address);
      } catch (err) {
        if (err instanceof SmtpReply) throw new SubmissionRefused('sender', text(err), address);
        throw err;
      }
    },
    async send(req) {
      const recipients: ResolvedRecipient[] = [];
      for (const address of req.recipients) {
        try {
          recipients.push(
            await resolveRecipient(store, address, {
              sizeHint: req.message.length,
              allowRemote: true,
              deferrals,
              ...(config.smtp.postmaster !== null ? { postmaster: config.smtp.postmaster } : {}),
            }),
          );
        } catch (err) {
          if (err instanceof SmtpReply) throw new SubmissionRefused(err.responseCode >= 500 ? 'recipient' : 'temporary', text(err), address);
          throw err;
        }
      }
      try {
        await deliverMessage(
          {
            store,
            logger,
            hostname: config.hostname,
            maxMessageBytes: config.limits.maxMessageBytes,
            maxReceivedHeaders: config.smtp.maxReceivedHeaders,
            dmarcRejectEnforced: false,
            // The webmail keeps its own copy in Sent (with Bcc).
            copyToSent: false,
            deferrals,
            verify: null,
          },
          {
            kind: 'submission',
            mailFrom: req.mailFrom,
            recipients,
            message: { chunks: [req.message], size: req.message.length },
            trace: { sessionId: req.id, remoteAddress: req.remoteAddress, helo: 'webmail', protocol: 'HTTP', tls: null },
            account: req.account,
          },
        );
      } catch (err) {
        if (err instanceof SmtpReply) throw new SubmissionRefused(err.responseCode >= 500 ? 'permanent' : 'temporary', text(err));
        throw err;
      }
      return {
        delivered: new Set(recipients.flatMap((r) => r.local.map((t) => t.inboxId))).size,
        queued: new Set(recipients.flatMap((r) => [...r.remote, ...(r.forwards ?? [])])).size,
      };
    },
  };
}
