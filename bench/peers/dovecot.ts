// A throwaway Dovecot for the comparison: Debian's binaries with a configuration of
// its own in a temporary directory (run, state, log and every user's Maildir there),
// IMAP, POP3 and LMTP on loopback ports, never the system's /etc/dovecot or its
// mail. Limits are raised so that 2,000 IDLE connections fit (Dovecot runs one imap
// process per connection): process_limit, client_limit and the per-user-and-IP cap.

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { PASSWORD } from './data.js';
import { freePort } from '../../test/free-port.js';

export interface PeerDovecot {
  imapPort: number;
  pop3Port: number;
  lmtpPort: number;
  home: string;
  /** The master's pid: the root of the process tree. */
  pid(): number;
  /** Files now in a user's Maildir new/ and cur/. */
  stop(): Promise<void>;
}

export function dovecotVersion(): string {
  return execFileSync('/usr/sbin/dovecot', ['--version']).toString().trim();
}

/** Writes the configuration; `home` must hold the Maildirs already (or be empty). */
export async function startDovecot(dir: string, home: string): Promise<PeerDovecot> {
  const [imapPort, pop3Port, lmtpPort] = [await freePort(), await freePort(), await freePort()];
  for (const d of ['run', 'state']) mkdirSync(join(dir, d), { recursive: true });
  mkdirSync(home, { recursive: true });
  chmodSync(dir, 0o755);
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(
    conf,
    `base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = steadymail-bench-${imapPort}
log_path = ${dir}/dovecot.log
protocols = imap pop3 lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
mail_location = maildir:~/Maildir
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 0
mail_max_userip_connections = 5000
pop3_uidl_format = %08Xu%08Xv
postmaster_address = postmaster@bench.test
default_process_limit = 5000
default_client_limit = 20000
default_vsz_limit = 0
namespace inbox {
  inbox = yes
  separator = .
}
passdb {
  driver = static
  args = password=${PASSWORD}
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${home}/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
  process_limit = 5000
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${pop3Port}
  }
  inet_listener pop3s {
    port = 0
  }
  process_limit = 5000
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtpPort}
  }
}
service imap {
  process_limit = 5000
}
service pop3 {
  process_limit = 5000
}
service anvil {
  client_limit = 20000
}
service auth {
  client_limit = 20000
}
service stats {
  client_limit = 20000
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`,
  );
  // The mail user reads and writes every Maildir.
  execFileSync('chown', ['-R', 'nobody:nogroup', home]);
  // dovecot forks into the background: its stdio must not hold ours open.
  execFileSync('/usr/sbin/dovecot', ['-c', conf], { stdio: 'ignore' });
  const pidFile = join(dir, 'run', 'master.pid');
  for (let i = 0; i < 100; i++) {
    if (existsSync(pidFile) && (await canConnect(imapPort)) && (await canConnect(pop3Port)) && (await canConnect(lmtpPort))) break;
    if (i === 99) throw new Error(`dovecot did not start: ${readFileSync(join(dir, 'dovecot.log'), 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = () => Number(readFileSync(pidFile, 'utf8').trim());
  return {
    imapPort,
    pop3Port,
    lmtpPort,
    home,
    pid,
    async stop() {
      let master: number;
      try {
        master = pid();
      } catch {
        return;
      }
      try {
        process.kill(master, 'SIGTERM');
      } catch {
        return;
      }
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(master, 0);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      process.kill(master, 'SIGKILL');
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
