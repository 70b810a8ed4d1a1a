// Client auto-configuration against the real server: Thunderbird autoconfig, Outlook
// Autodiscover and the Apple profile fetched over HTTP, parsed by independent parsers
// (python3's xml.etree and plistlib), checked against the formats' expected elements
// and the listeners really running, then used as-is by imapflow and nodemailer.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { Client, startApiServer, type ApiServer } from '../webmail/api-harness.js';

const USER = 'alice@auto.test';
const PASSWORD = 'alice-secret-1';
const REQUEST_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006';
const RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';

interface Server {
  type: string;
  hostname: string;
  port: number;
  socketType: string;
  username: string;
  authentication: string;
}

const python = (script: string, input: string): unknown => JSON.parse(execFileSync('python3', ['-c', script], { input }).toString()) as unknown;

/** ISPDB clientConfig 1.1: structure checked element by element, servers returned. */
function parseThunderbird(xml: string): { id: string; domain: string; incoming: Server[]; outgoing: Server[] } {
  return python(
    `import sys, json, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
assert root.tag == 'clientConfig' and root.get('version') == '1.1', root.tag
providers = root.findall('emailProvider')
assert len(providers) == 1
p = providers[0]
tags = [c.tag for c in p]
assert tags[:4] == ['domain', 'displayName', 'displayShortName', 'incomingServer'], tags
def server(e):
    kids = [c.tag for c in e]
    assert kids == ['hostname', 'port', 'socketType', 'authentication', 'username'], kids
    assert e.find('socketType').text in ('SSL', 'STARTTLS', 'plain')
    assert e.find('authentication').text in ('password-cleartext', 'password-encrypted', 'OAuth2')
    d = {c.tag: c.text for c in e}
    d['type'] = e.get('type'); d['port'] = int(d['port'])
    return d
inc = [server(e) for e in p.findall('incomingServer')]
out = [server(e) for e in p.findall('outgoingServer')]
assert all(s['type'] in ('imap', 'pop3') for s in inc) and all(s['type'] == 'smtp' for s in out)
# Incoming servers come before outgoing ones (the format's sequence).
assert tags.index('outgoingServer') > max(i for i, t in enumerate(tags) if t == 'incomingServer')
print(json.dumps({'id': p.get('id'), 'domain': p.find('domain').text, 'incoming': inc, 'outgoing': out}))`,
    xml,
  ) as { id: string; domain: string; incoming: Server[]; outgoing: Server[] };
}

interface Protocol {
  Type: string;
  Server: string;
  Port: string;
  LoginName: string;
  SPA: string;
  SSL: string;
  Encryption: string;
  AuthRequired: string;
  DomainRequired: string;
}

/** The POX response schema 2006a: Autodiscover/Response/Account/Protocol. */
function parseAutodiscover(xml: string): { accountType: string; action: string; protocols: Protocol[] } {
  return python(
    `import sys, json, xml.etree.ElementTree as ET
E = '{http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006}'
R = '{${RESPONSE_NS}}'
root = ET.fromstring(sys.stdin.buffer.read())
assert root.tag == E + 'Autodiscover', root.tag
resp = root.find(R + 'Response')
assert resp is not None
acc = resp.find(R + 'Account')
assert acc is not None
protos = []
for p in acc.findall(R + 'Protocol'):
    d = {c.tag[len(R):]: c.text for c in p}
    for k in ('Type', 'Server', 'Port', 'LoginName', 'SPA', 'SSL', 'AuthRequired'):
        assert k in d, k
    protos.append(d)
print(json.dumps({'accountType': acc.find(R + 'AccountType').text, 'action': acc.find(R + 'Action').text, 'protocols': protos}))`,
    xml,
  ) as { accountType: string; action: string; protocols: Protocol[] };
}

function parseAutodiscoverError(xml: string): { code: string; message: string } {
  return python(
    `import sys, json, xml.etree.ElementTree as ET
E = '{http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006}'
root = ET.fromstring(sys.stdin.buffer.read())
assert root.tag == E + 'Autodiscover', root.tag
err = root.find(E + 'Response/' + E + 'Error')
assert err is not None and err.get('Time') and err.get('Id')
print(json.dumps({'code': err.find(E + 'ErrorCode').text, 'message': err.find(E + 'Message').text}))`,
    xml,
  ) as { code: string; message: string };
}

const autodiscoverBody = (address: string, schema = RESPONSE_NS): string =>
  `<?xml version="1.0" encoding="utf-8"?>\r\n<Autodiscover xmlns="${REQUEST_NS}">\r\n  <Request>\r\n    <EMailAddress>${address}</EMailAddress>\r\n    <AcceptableResponseSchema>${schema}</AcceptableResponseSchema>\r\n  </Request>\r\n</Autodiscover>\r\n`;

async function autodiscover(base: string, body: string, path = '/autodiscover/autodiscover.xml'): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

/** fetch() does not let a caller set Host; node:http does. */
function getWithHost(url: string, host: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { headers: { host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

const ALL_ON = { imap: '127.0.0.1:0', imaps: '127.0.0.1:0', pop3: '127.0.0.1:0', pop3s: '127.0.0.1:0', submission: '127.0.0.1:0', submissions: '127.0.0.1:0' };
const listenEnv = (l: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(l).map(([k, v]) => [`STEADYMAIL_LISTEN_${k.toUpperCase()}`, v]));

describe('every client listener on, published as bound', () => {
  let s: ApiServer;
  before(async () => {
    s = await startApiServer({ [USER]: PASSWORD }, { ...listenEnv(ALL_ON), STEADYMAIL_AUTOCONFIG_HOST: '127.0.0.1', STEADYMAIL_AUTOCONFIG_DISPLAY_NAME: 'Auto Test Mail' });
  });
  after(async () => s.close());
  const port = (name: string): number => s.server.addresses.get(name as 'imap')!.port;

  test('Thunderbird autoconfig lists every listener with its real port and TLS mode, implicit TLS first', async () => {
    for (const path of ['/.well-known/autoconfig/mail/config-v1.1.xml', '/mail/config-v1.1.xml']) {
      const res = await fetch(`${s.base}${path}?emailaddress=${encodeURIComponent(USER)}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^application\/xml/);
      const doc = parseThunderbird(await res.text());
      assert.equal(doc.id, 'auto.test');
      assert.equal(doc.domain, 'auto.test');
      assert.deepEqual(
        doc.incoming.map((x) => [x.type, x.hostname, x.port, x.socketType, x.username, x.authentication]),
        [
          ['imap', '127.0.0.1', port('imaps'), 'SSL', '%EMAILADDRESS%', 'password-cleartext'],
          ['imap', '127.0.0.1', port('imap'), 'STARTTLS', '%EMAILADDRESS%', 'password-cleartext'],
          ['pop3', '127.0.0.1', port('pop3s'), 'SSL', '%EMAILADDRESS%', 'password-cleartext'],
          ['pop3', '127.0.0.1', port('pop3'), 'STARTTLS', '%EMAILADDRESS%', 'password-cleartext'],
        ],
      );
      assert.deepEqual(
        doc.outgoing.map((x) => [x.type, x.port, x.socketType]),
        [
          ['smtp', port('submissions'), 'SSL'],
          ['smtp', port('submission'), 'STARTTLS'],
        ],
      );
    }
    // Thunderbird's request to autoconfig.<domain> without the address: the Host names the domain.
    const byHost = await getWithHost(`${s.base}/mail/config-v1.1.xml`, 'autoconfig.auto.test');
    assert.equal(byHost.status, 200);
    assert.equal(parseThunderbird(byHost.text).domain, 'auto.test');
    // A domain not hosted here is not configured.
    assert.equal((await fetch(`${s.base}/mail/config-v1.1.xml?emailaddress=bob%40elsewhere.test`)).status, 404);
    assert.equal((await fetch(`${s.base}/mail/config-v1.1.xml?emailaddress=not-an-address`)).status, 404);
  });

  test('imapflow and nodemailer log in with exactly what autoconfig returned', async () => {
    const doc = parseThunderbird(await (await fetch(`${s.base}/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(USER)}`)).text());
    const user = (x: Server): string => x.username.replace('%EMAILADDRESS%', USER);
    for (const x of doc.incoming.filter((i) => i.type === 'imap')) {
      const client = new ImapFlow({
        host: x.hostname,
        port: x.port,
        secure: x.socketType === 'SSL',
        doSTARTTLS: x.socketType === 'STARTTLS',
        tls: { rejectUnauthorized: false },
        auth: { user: user(x), pass: PASSWORD },
        logger: false,
      });
      await client.connect();
      const inbox = await client.status('INBOX', { messages: true });
      assert.ok(inbox && typeof inbox.messages === 'number', `${x.socketType} ${x.port}: STATUS INBOX after login`);
      await client.logout();
    }
    for (const x of doc.outgoing) {
      const transport = nodemailer.createTransport({
        host: x.hostname,
        port: x.port,
        secure: x.socketType === 'SSL',
        requireTLS: x.socketType === 'STARTTLS',
        tls: { rejectUnauthorized: false },
        auth: { user: user(x), pass: PASSWORD },
      });
      assert.equal(await transport.verify(), true, `${x.socketType} ${x.port}`);
      transport.close();
    }
  });

  test('Outlook Autodiscover (POX 2006a) lists IMAP, POP3 and SMTP with SSL/TLS encryption and the full address as login', async () => {
    for (const path of ['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml']) {
      const r = await autodiscover(s.base, autodiscoverBody('Alice@Auto.Test'), path);
      assert.equal(r.status, 200, r.text);
      assert.match(r.type ?? '', /^text\/xml/);
      const doc = parseAutodiscover(r.text);
      assert.equal(doc.accountType, 'email');
      assert.equal(doc.action, 'settings');
      assert.deepEqual(
        doc.protocols.map((p) => [p.Type, p.Server, Number(p.Port), p.Encryption, p.SSL, p.SPA, p.LoginName, p.AuthRequired, p.DomainRequired]),
        [
          ['IMAP', '127.0.0.1', port('imaps'), 'SSL', 'on', 'off', USER, 'on', 'off'],
          ['IMAP', '127.0.0.1', port('imap'), 'TLS', 'on', 'off', USER, 'on', 'off'],
          ['POP3', '127.0.0.1', port('pop3s'), 'SSL', 'on', 'off', USER, 'on', 'off'],
          ['POP3', '127.0.0.1', port('pop3'), 'TLS', 'on', 'off', USER, 'on', 'off'],
          ['SMTP', '127.0.0.1', port('submissions'), 'SSL', 'on', 'off', USER, 'on', 'off'],
          ['SMTP', '127.0.0.1', port('submission'), 'TLS', 'on', 'off', USER, 'on', 'off'],
        ],
      );
    }
  });

  test('Autodiscover answers malformed, oversized, hostile and foreign requests with an Autodiscover error', async () => {
    const cases: Array<[string, number, string, RegExp]> = [
      ['<Autodiscover xmlns="' + REQUEST_NS + '"><Request><EMailAddress>a@auto.test</EMailAddress></Request>', 400, '600', /not closed/],
      ['this is not xml', 400, '600', /text outside the root/],
      ['', 400, '600', /no root element/],
      [`<!DOCTYPE x [<!ENTITY a "aaaa">]><Autodiscover xmlns="${REQUEST_NS}"><Request><EMailAddress>&a;</EMailAddress></Request></Autodiscover>`, 400, '600', /DOCTYPE/],
      [`<Autodiscover xmlns="urn:other"><Request><EMailAddress>a@auto.test</EMailAddress></Request></Autodiscover>`, 400, '600', /expected <Autodiscover/],
      [autodiscoverBody(''), 400, '600', /EMailAddress/],
      [autodiscoverBody('a@auto.test', 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006'), 200, '601', /responseschema\/2006a/],
      [autodiscoverBody('bob@elsewhere.test'), 404, '500', /no mail service/],
      [autodiscoverBody('x'.repeat(20_000) + '@auto.test'), 413, '600', /larger than 16384 bytes/],
    ];
    for (const [body, status, code, message] of cases) {
      const r = await autodiscover(s.base, body);
      assert.equal(r.status, status, `${body.slice(0, 60)} → ${r.text}`);
      const e = parseAutodiscoverError(r.text);
      assert.equal(e.code, code, body.slice(0, 60));
      assert.match(e.message, message);
    }
    // The server is still well.
    assert.equal((await autodiscover(s.base, autodiscoverBody(USER))).status, 200);
  });

  test('the Apple profile: signed-in users only, com.apple.mail.managed with stable UUIDs and no password', async () => {
    assert.equal((await fetch(`${s.base}/api/settings/mobileconfig`)).status, 401);
    const client = await Client.login(s.base, USER, PASSWORD);
    await client.json('PUT', '/api/settings', { displayName: 'Alice Example' });
    const res = await client.request('GET', '/api/settings/mobileconfig');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-apple-aspen-config');
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="${USER}.mobileconfig"`);
    const text = await res.text();
    assert.doesNotMatch(text, new RegExp(PASSWORD));
    const profile = python(
      `import sys, json, plistlib
print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))`,
      text,
    ) as Record<string, unknown> & { PayloadContent: Array<Record<string, unknown>> };
    const UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;
    assert.equal(profile['PayloadType'], 'Configuration');
    assert.equal(profile['PayloadVersion'], 1);
    assert.match(String(profile['PayloadUUID']), UUID);
    assert.match(String(profile['PayloadIdentifier']), /^1\.0\.0\.127\.mailprofile\.[0-9a-f]{16}$/);
    assert.equal(profile.PayloadContent.length, 1);
    const mail = profile.PayloadContent[0]!;
    assert.equal(mail['PayloadType'], 'com.apple.mail.managed');
    assert.match(String(mail['PayloadUUID']), UUID);
    assert.notEqual(mail['PayloadUUID'], profile['PayloadUUID']);
    assert.equal(mail['PayloadIdentifier'], `${String(profile['PayloadIdentifier'])}.email`);
    assert.deepEqual(
      [mail['EmailAccountType'], mail['EmailAddress'], mail['EmailAccountName'], mail['IncomingMailServerHostName'], mail['IncomingMailServerPortNumber'], mail['IncomingMailServerUseSSL'], mail['IncomingMailServerUsername'], mail['IncomingMailServerAuthentication']],
      ['EmailTypeIMAP', USER, 'Alice Example', '127.0.0.1', port('imaps'), true, USER, 'EmailAuthPassword'],
    );
    assert.deepEqual(
      [mail['OutgoingMailServerHostName'], mail['OutgoingMailServerPortNumber'], mail['OutgoingMailServerUseSSL'], mail['OutgoingMailServerUsername'], mail['OutgoingPasswordSameAsIncomingPassword']],
      ['127.0.0.1', port('submissions'), true, USER, true],
    );
    assert.equal('IncomingPassword' in mail || 'OutgoingPassword' in mail, false, 'no password in the payload');
    // A second download is the same profile (it replaces, not duplicates, the installed one).
    const again = await (await client.request('GET', '/api/settings/mobileconfig')).text();
    assert.equal(again, text);
  });
});

describe('STARTTLS listeners only, behind a port mapping', () => {
  let s: ApiServer;
  before(async () => {
    s = await startApiServer(
      { [USER]: PASSWORD },
      {
        ...listenEnv({ imap: '127.0.0.1:0', pop3: '127.0.0.1:0', submission: '127.0.0.1:0' }),
        STEADYMAIL_AUTOCONFIG_HOST: 'mail.auto.test',
        STEADYMAIL_AUTOCONFIG_IMAP_PORT: '143',
        STEADYMAIL_AUTOCONFIG_SUBMISSION_PORT: '587',
        STEADYMAIL_AUTOCONFIG_POP3_PORT: 'off',
      },
    );
  });
  after(async () => s.close());

  test('only the running, published listeners are announced, with the published ports and host', async () => {
    const doc = parseThunderbird(await (await fetch(`${s.base}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(USER)}`)).text());
    assert.deepEqual(
      [...doc.incoming, ...doc.outgoing].map((x) => [x.type, x.hostname, x.port, x.socketType]),
      [
        ['imap', 'mail.auto.test', 143, 'STARTTLS'],
        ['smtp', 'mail.auto.test', 587, 'STARTTLS'],
      ],
    );
    const ad = parseAutodiscover((await autodiscover(s.base, autodiscoverBody(USER))).text);
    assert.deepEqual(
      ad.protocols.map((p) => [p.Type, p.Server, p.Port, p.Encryption]),
      [
        ['IMAP', 'mail.auto.test', '143', 'TLS'],
        ['SMTP', 'mail.auto.test', '587', 'TLS'],
      ],
    );
    const client = await Client.login(s.base, USER, PASSWORD);
    const profile = python(`import sys, json, plistlib\nprint(json.dumps(plistlib.loads(sys.stdin.buffer.read())))`, await (await client.request('GET', '/api/settings/mobileconfig')).text()) as {
      PayloadContent: Array<Record<string, unknown>>;
      PayloadIdentifier: string;
    };
    assert.equal(profile.PayloadIdentifier.startsWith('test.auto.mail.mailprofile.'), true);
    assert.deepEqual([profile.PayloadContent[0]!['IncomingMailServerPortNumber'], profile.PayloadContent[0]!['OutgoingMailServerPortNumber']], [143, 587]);
  });
});

describe('no outgoing listener, and autoconfig switched off', () => {
  test('without submission nothing complete can be announced; with [autoconfig] enabled = false nothing is served', async () => {
    const s = await startApiServer({ [USER]: PASSWORD }, listenEnv({ imaps: '127.0.0.1:0' }));
    try {
      assert.equal((await fetch(`${s.base}/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(USER)}`)).status, 404);
      const client = await Client.login(s.base, USER, PASSWORD);
      assert.equal((await client.request('GET', '/api/settings/mobileconfig')).status, 404);
      // Autodiscover still tells Outlook where IMAP is.
      const ad = parseAutodiscover((await autodiscover(s.base, autodiscoverBody(USER))).text);
      assert.deepEqual(ad.protocols.map((p) => [p.Type, p.Encryption]), [['IMAP', 'SSL']]);
    } finally {
      await s.close();
    }
    const off = await startApiServer({ [USER]: PASSWORD }, { ...listenEnv(ALL_ON), STEADYMAIL_AUTOCONFIG_ENABLED: 'false' });
    try {
      assert.equal((await fetch(`${off.base}/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(USER)}`)).status, 404);
      assert.equal((await autodiscover(off.base, autodiscoverBody(USER))).status, 404);
      const client = await Client.login(off.base, USER, PASSWORD);
      assert.equal((await client.request('GET', '/api/settings/mobileconfig')).status, 404);
    } finally {
      await off.close();
    }
  });
});
