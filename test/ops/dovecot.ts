// Debian's Dovecot as a foreign IMAP server for the tests: run unprivileged in a temp
// directory on a free port, every user's mail in <dir>/home/<user>/Maildir (Maildir++,
// separator "."), password "secret" for everyone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { freePort } from '../free-port.js';

export interface DovecotMessage {
  uid: number;
  flags: string[];
  raw: string;
  date: number;
}

export interface Dovecot {
  port: number;
  home(user: string): string;
  /** Hands a tree written by this (root) process to the user Dovecot reads mail as. */
  giveToMailUser(): void;
  /** Every mailbox of a user (our `/` names): UIDVALIDITY and messages by UID, \Recent left out. */
  view(user: string, skip?: (path: string) => boolean): Promise<Record<string, { uidValidity: number; messages: DovecotMessage[] }>>;
  stop(): Promise<void>;
}

export interface DovecotOptions {
  /** More configuration inside the inbox namespace (mailbox blocks, say). */
  inboxNamespace?: string;
}

export async function startDovecot(dir: string, options: DovecotOptions = {}): Promise<Dovecot> {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const port = await freePort();
  for (const d of ['run', 'state', 'home']) mkdirSync(join(dir, d));
  chmodSync(join(dir, 'home'), 0o777);
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(
    conf,
    `base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = steadymail-test-${port}
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = .
${options.inboxNamespace ?? ''}
}
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`,
  );
  // dovecot forks into the background: its stdio must not hold ours open.
  execFileSync('/usr/sbin/dovecot', ['-c', conf], { stdio: 'ignore' });
  const client = (user: string) => new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user, pass: 'secret' }, logger: false });
  let up = false;
  for (let i = 0; i < 50 && !up; i++) {
    const attempt = client('probe');
    try {
      await attempt.connect();
      await attempt.logout();
      up = true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.ok(up, `dovecot did not start: ${readFileSync(join(dir, 'dovecot.log'), 'utf8')}`);
  return {
    port,
    home: (user) => join(dir, 'home', user),
    giveToMailUser() {
      execFileSync('chown', ['-R', 'nobody:nogroup', join(dir, 'home')]);
    },
    async view(user, skip) {
      const c = client(user);
      await c.connect();
      const out: Record<string, { uidValidity: number; messages: DovecotMessage[] }> = {};
      try {
        for (const box of await c.list()) {
          if (skip?.(box.path) === true) continue;
          const lock = await c.getMailboxLock(box.path, { readOnly: true });
          try {
            const messages: DovecotMessage[] = [];
            const mailbox = c.mailbox === false ? undefined : c.mailbox;
            if (mailbox && mailbox.exists > 0) {
              for await (const m of c.fetch('1:*', { source: true, flags: true, internalDate: true, uid: true })) {
                messages.push({ uid: m.uid, flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(), raw: m.source!.toString('latin1'), date: new Date(m.internalDate!).getTime() });
              }
            }
            out[box.path === 'INBOX' ? 'INBOX' : box.path.split('.').join('/')] = { uidValidity: Number(mailbox?.uidValidity ?? 0), messages };
          } finally {
            lock.release();
          }
        }
      } finally {
        await c.logout();
      }
      return out;
    },
    async stop() {
      const pid = Number(readFileSync(join(dir, 'run', 'master.pid'), 'utf8').trim());
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
