// Installs the peers' Debian packages when they are missing: without letting them
// configure or start anything for the system (a package's post-install may start its
// service; what it started is stopped again), fetching the package lists first if
// the install cannot find the packages.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function aptInstall(packages: string[]): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, stdio: 'ignore' });
  try {
    install();
  } catch {
    // A fresh machine has no package lists yet.
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore' });
    install();
  }
}

function stopQuietly(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
  } catch {
    // not running
  }
}

/** Debian's postfix, "No configuration": no /etc/postfix setup, nothing on port 25. */
export function ensurePostfix(log: (s: string) => void): void {
  if (existsSync('/usr/sbin/postfix') && existsSync('/usr/lib/postfix/sbin/master')) return;
  log('installing postfix (Debian package, "No configuration")');
  execFileSync('sh', ['-c', 'echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections']);
  aptInstall(['postfix']);
  stopQuietly('postfix', ['stop']);
}

/** Debian's Dovecot with IMAP, POP3 and LMTP; a system instance the install started is stopped. */
export function ensureDovecot(log: (s: string) => void): void {
  const binaries = ['/usr/sbin/dovecot', '/usr/lib/dovecot/imap', '/usr/lib/dovecot/pop3', '/usr/lib/dovecot/lmtp'];
  if (binaries.every((b) => existsSync(b))) return;
  const wasInstalled = existsSync('/usr/sbin/dovecot');
  log('installing dovecot-imapd, dovecot-pop3d, dovecot-lmtpd (Debian packages)');
  aptInstall(['dovecot-imapd', 'dovecot-pop3d', 'dovecot-lmtpd']);
  // Only a system instance this install may have started; one that ran before is left alone.
  if (!wasInstalled) stopQuietly('/usr/sbin/dovecot', ['stop']);
}
