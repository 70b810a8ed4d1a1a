// Thunderbird's autoconfig document: the ISPDB clientConfig format, version 1.1
// (https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat).
// Servers are listed in order of preference; Thunderbird tries them in that order.

import type { ClientSettings, ServerSetting } from './settings.js';
import { escapeXml } from './xml.js';

const SOCKET_TYPE = { tls: 'SSL', starttls: 'STARTTLS' } as const;

function server(tag: 'incomingServer' | 'outgoingServer', s: ServerSetting): string {
  return [
    `    <${tag} type="${s.protocol}">`,
    `      <hostname>${escapeXml(s.host)}</hostname>`,
    `      <port>${s.port}</port>`,
    `      <socketType>${SOCKET_TYPE[s.security]}</socketType>`,
    // Inside TLS: the password as typed, checked by the same authenticator as every protocol.
    `      <authentication>password-cleartext</authentication>`,
    `      <username>%EMAILADDRESS%</username>`,
    `    </${tag}>`,
  ].join('\n');
}

export function thunderbirdConfig(settings: ClientSettings): string {
  const name = escapeXml(settings.displayName);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${escapeXml(settings.domain)}">`,
    `    <domain>${escapeXml(settings.domain)}</domain>`,
    `    <displayName>${name}</displayName>`,
    `    <displayShortName>${name}</displayShortName>`,
    ...settings.incoming.map((s) => server('incomingServer', s)),
    ...settings.outgoing.map((s) => server('outgoingServer', s)),
    '  </emailProvider>',
    '</clientConfig>',
    '',
  ].join('\n');
}
