// A throwaway Postfix for the comparison: Debian's binaries run as
// `postfix -c <dir>/conf` with a main.cf and master.cf of their own (queue and data
// directories under <dir>, smtpd on one loopback port, no chroot, a log file of its
// own), never the system's /etc/postfix or port 25. Mail for bench.test is relayed
// over LMTP into the throwaway Dovecot. The master starts as root; its processes
// run as the postfix user (mail_owner).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOMAIN } from './data.js';
import { freePort } from '../../test/free-port.js';

export interface PeerPostfix {
  smtpPort: number;
  pid(): number;
  /** Messages still in the queue (incoming, active, deferred, maildrop). */
  queued(): number;
  stop(): void;
}

export function postfixVersion(): string {
  return execFileSync('postconf', ['-h', '-d', 'mail_version']).toString().trim();
}

export async function startPostfix(dir: string, lmtpPort: number): Promise<PeerPostfix> {
  const conf = join(dir, 'conf');
  const queue = join(dir, 'queue');
  for (const d of [conf, queue, join(dir, 'data')]) mkdirSync(d, { recursive: true });
  execFileSync('chown', ['postfix:postfix', join(dir, 'data')]);
  const smtpPort = await freePort();
  writeFileSync(
    join(conf, 'main.cf'),
    `compatibility_level = 3.6
queue_directory = ${queue}
data_directory = ${dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.${DOMAIN}
mydomain = ${DOMAIN}
myorigin = ${DOMAIN}
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = ${DOMAIN}
relay_recipient_maps =
transport_maps = inline:{ ${DOMAIN}=lmtp:inet:127.0.0.1:${lmtpPort} }
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
message_size_limit = 20000000
default_process_limit = 200
lmtp_destination_concurrency_limit = 20
lmtp_destination_recipient_limit = 50
maillog_file = ${dir}/postfix.log
maillog_file_prefixes = ${dir}
biff = no
`,
  );
  writeFileSync(
    join(conf, 'master.cf'),
    `127.0.0.1:${smtpPort} inet n - n - - smtpd
pickup    fifo  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      fifo  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`,
  );
  execFileSync('postfix', ['-c', conf, 'start'], { stdio: 'ignore' });
  const pidFile = join(queue, 'pid', 'master.pid');
  for (let i = 0; i < 100 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 100));
  const pid = () => Number(readFileSync(pidFile, 'utf8').trim());
  pid();
  const count = (d: string): number => {
    let n = 0;
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) n += e.isDirectory() ? count(join(d, e.name)) : 1;
    } catch {
      // not there (yet)
    }
    return n;
  };
  return {
    smtpPort,
    pid,
    queued: () => ['incoming', 'active', 'deferred', 'maildrop'].reduce((n, q) => n + count(join(queue, q)), 0),
    stop() {
      try {
        execFileSync('postfix', ['-c', conf, 'stop'], { stdio: 'ignore' });
      } catch {
        // already stopped
      }
    },
  };
}
