// An Apple configuration profile (.mobileconfig) with one com.apple.mail.managed
// payload: iOS, iPadOS and macOS Mail set up the account from it.
//
// Rules:
// - No password in the profile: the device asks for it when the profile is installed.
// - Identifiers and UUIDs are derived from the host and the address (name-based UUIDs,
//   RFC 9562 5.5), so downloading the profile again replaces the installed one
//   instead of adding a second account.
// - The profile is unsigned; devices show it as "Not Verified" (docs/autoconfig.md).
// - "UseSSL" is true for both TLS modes: Apple Mail uses STARTTLS on a port other than
//   the implicit-TLS one when the flag is set.

import { createHash } from 'node:crypto';
import type { ClientSettings, ServerSetting } from './settings.js';
import { escapeXml } from './xml.js';

/** A name-based (version 5) UUID of `name`, upper case as Apple writes them. */
export function nameUuid(name: string): string {
  // The URL namespace of RFC 9562 Appendix A.
  const namespace = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');
  const h = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

function plist(value: PlistValue, indent: string): string {
  if (typeof value === 'string') return `${indent}<string>${escapeXml(value)}</string>`;
  if (typeof value === 'number') return `${indent}<integer>${value}</integer>`;
  if (typeof value === 'boolean') return `${indent}<${value}/>`;
  if (Array.isArray(value)) return [`${indent}<array>`, ...value.map((v) => plist(v, indent + '  ')), `${indent}</array>`].join('\n');
  const lines = [`${indent}<dict>`];
  for (const [k, v] of Object.entries(value)) lines.push(`${indent}  <key>${escapeXml(k)}</key>`, plist(v, indent + '  '));
  lines.push(`${indent}</dict>`);
  return lines.join('\n');
}

/** `mail.example.com` → `com.example.mail`. */
function reverseDns(host: string): string {
  return host.split('.').reverse().join('.');
}

export interface MobileconfigInput {
  settings: ClientSettings;
  address: string;
  /** The account's display name (the From name); '' when none. */
  name: string;
}

export function mobileconfigFileName(address: string): string {
  return `${address.replace(/[^A-Za-z0-9@._-]/g, '_')}.mobileconfig`;
}

/** The profile, or null when no incoming or no outgoing server is announced. */
export function mobileconfig({ settings, address, name }: MobileconfigInput): string | null {
  const incoming: ServerSetting | undefined = settings.incoming[0];
  const outgoing: ServerSetting | undefined = settings.outgoing[0];
  if (!incoming || !outgoing) return null;
  const host = incoming.host;
  const tag = createHash('sha256').update(address).digest('hex').slice(0, 16);
  const profileId = `${reverseDns(host)}.mailprofile.${tag}`;
  const payload: PlistValue = {
    EmailAccountDescription: `${settings.displayName} (${address})`,
    EmailAccountName: name === '' ? address : name,
    EmailAccountType: incoming.protocol === 'imap' ? 'EmailTypeIMAP' : 'EmailTypePOP',
    EmailAddress: address,
    IncomingMailServerAuthentication: 'EmailAuthPassword',
    IncomingMailServerHostName: incoming.host,
    IncomingMailServerPortNumber: incoming.port,
    IncomingMailServerUseSSL: true,
    IncomingMailServerUsername: address,
    OutgoingMailServerAuthentication: 'EmailAuthPassword',
    OutgoingMailServerHostName: outgoing.host,
    OutgoingMailServerPortNumber: outgoing.port,
    OutgoingMailServerUseSSL: true,
    OutgoingMailServerUsername: address,
    OutgoingPasswordSameAsIncomingPassword: true,
    PayloadDescription: `Mail account ${address}`,
    PayloadDisplayName: `Mail (${address})`,
    PayloadIdentifier: `${profileId}.email`,
    PayloadType: 'com.apple.mail.managed',
    PayloadUUID: nameUuid(`mail:${host}:${address}`),
    PayloadVersion: 1,
    SMIMEEnabled: false,
    allowMailDrop: true,
    disableMailRecentsSyncing: false,
  };
  const profile: PlistValue = {
    PayloadContent: [payload],
    PayloadDescription: `Sets up the mail account ${address} on ${host}.`,
    PayloadDisplayName: `${settings.displayName} mail`,
    PayloadIdentifier: profileId,
    PayloadOrganization: settings.displayName,
    PayloadRemovalDisallowed: false,
    PayloadType: 'Configuration',
    PayloadUUID: nameUuid(`profile:${host}:${address}`),
    PayloadVersion: 1,
  };
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    plist(profile, ''),
    '</plist>',
    '',
  ].join('\n');
}
