// Outlook's "POX" Autodiscover (Outlook 2007 and later, [MS-OXDSCLI]): the client POSTs
// an Autodiscover request naming the address, and gets one Account with a Protocol
// entry per way to reach the mailbox.
//
// Rules:
// - Request schema .../outlook/requestschema/2006; the only response schema offered
//   is .../outlook/responseschema/2006a. A request for another schema gets error 601.
// - A malformed request gets an Autodiscover error (600, "Invalid Request") naming the
//   problem, never a stack trace; the body size is limited ([autoconfig]
//   max_request_bytes), the XML parser refuses DTDs.
// - LoginName is the address as given (the login is the full address); whether an
//   account exists is not revealed, only whether the domain is served here.

import type { ClientSettings, ServerSetting } from './settings.js';
import { child, escapeXml, parseXml, XmlError } from './xml.js';

export const REQUEST_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006';
export const RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';
export const ENVELOPE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';

export interface AutodiscoverRequest {
  address: string;
}

/** An Autodiscover error: its code ([MS-OXDSCLI] 2.2.4.2.1.1) and message. */
export class AutodiscoverError extends Error {
  constructor(
    readonly code: 500 | 600 | 601 | 603,
    message: string,
  ) {
    super(message);
    this.name = 'AutodiscoverError';
  }
}

/** Reads the request body; throws AutodiscoverError for anything Outlook would not send. */
export function parseAutodiscoverRequest(body: string): AutodiscoverRequest {
  let root;
  try {
    root = parseXml(body, { maxDepth: 8, maxElements: 64 });
  } catch (err) {
    if (err instanceof XmlError) throw new AutodiscoverError(600, `malformed XML: ${err.message}`);
    throw err;
  }
  if (root.local !== 'Autodiscover' || root.ns !== REQUEST_SCHEMA) throw new AutodiscoverError(600, `expected <Autodiscover xmlns="${REQUEST_SCHEMA}">`);
  const request = child(root, REQUEST_SCHEMA, 'Request');
  if (!request) throw new AutodiscoverError(600, 'missing <Request>');
  const schema = child(request, REQUEST_SCHEMA, 'AcceptableResponseSchema')?.text.trim();
  if (schema !== undefined && schema !== RESPONSE_SCHEMA) throw new AutodiscoverError(601, `only ${RESPONSE_SCHEMA} is available`);
  const address = child(request, REQUEST_SCHEMA, 'EMailAddress')?.text.trim() ?? '';
  if (address === '') throw new AutodiscoverError(600, 'missing <EMailAddress>');
  return { address };
}

const TYPE = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP' } as const;

function protocol(s: ServerSetting, login: string): string {
  return [
    '      <Protocol>',
    `        <Type>${TYPE[s.protocol]}</Type>`,
    `        <Server>${escapeXml(s.host)}</Server>`,
    `        <Port>${s.port}</Port>`,
    '        <DomainRequired>off</DomainRequired>',
    `        <LoginName>${escapeXml(login)}</LoginName>`,
    '        <SPA>off</SPA>',
    '        <SSL>on</SSL>',
    // "SSL": TLS from the first byte; "TLS": STARTTLS on a plain connection.
    `        <Encryption>${s.security === 'tls' ? 'SSL' : 'TLS'}</Encryption>`,
    '        <AuthRequired>on</AuthRequired>',
    ...(s.protocol === 'smtp' ? ['        <UsePOPAuth>off</UsePOPAuth>', '        <SMTPLast>off</SMTPLast>'] : []),
    '      </Protocol>',
  ].join('\n');
}

export function autodiscoverResponse(settings: ClientSettings, address: string): string {
  // Outlook takes the first entry of a type; the preferred setting of each type goes first.
  const servers = [...settings.incoming, ...settings.outgoing];
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<Autodiscover xmlns="${ENVELOPE_SCHEMA}">`,
    `  <Response xmlns="${RESPONSE_SCHEMA}">`,
    '    <User>',
    `      <DisplayName>${escapeXml(address)}</DisplayName>`,
    '    </User>',
    '    <Account>',
    '      <AccountType>email</AccountType>',
    '      <Action>settings</Action>',
    ...servers.map((s) => protocol(s, address)),
    '    </Account>',
    '  </Response>',
    '</Autodiscover>',
    '',
  ].join('\n');
}

export function autodiscoverError(error: AutodiscoverError, now = new Date()): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<Autodiscover xmlns="${ENVELOPE_SCHEMA}">`,
    '  <Response>',
    `    <Error Time="${now.toISOString().slice(11, 23)}" Id="${Math.floor(Math.random() * 0xffffffff)}">`,
    `      <ErrorCode>${error.code}</ErrorCode>`,
    `      <Message>${escapeXml(error.message)}</Message>`,
    '      <DebugData />',
    '    </Error>',
    '  </Response>',
    '</Autodiscover>',
    '',
  ].join('\n');
}
