// A private CA and certificates it issues, made with openssl, for the verified-TLS and
// MTA-STS tests (the queue trusts the CA through its extra-CA option).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  /** The CA certificate (PEM). */
  cert: string;
  /** A key and certificate for `names`, signed by the CA. */
  issue(names: string[]): { key: string; cert: string };
}

export function makeCa(dir: string): TestCa {
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  execFileSync('openssl', ['req', '-x509', ...ec, '-keyout', caKey, '-out', caCert, '-days', '2', '-subj', '/CN=Steadymail Test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'ignore' });
  let n = 0;
  return {
    cert: readFileSync(caCert, 'utf8'),
    issue(names) {
      const base = join(dir, `leaf${++n}`);
      writeFileSync(`${base}.ext`, `subjectAltName=${names.map((x) => `DNS:${x}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
      execFileSync('openssl', ['req', ...ec, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${names[0] ?? 'test'}`], { stdio: 'ignore' });
      execFileSync('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-extfile', `${base}.ext`, '-out', `${base}.crt`], { stdio: 'ignore' });
      return { key: readFileSync(`${base}.key`, 'utf8'), cert: readFileSync(`${base}.crt`, 'utf8') };
    },
  };
}
