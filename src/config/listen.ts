// Listener and DNS server addresses as written in steadymail.toml.
import { isIP } from 'node:net';

export interface ListenAddress {
  /** An IPv4/IPv6 address or a host name, without brackets. */
  host: string;
  port: number;
}

export const LISTEN_FORMAT = '"host:port" (IPv6 as "[::1]:143") or "off"';

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/** `off` → null; `host:port` / `[v6]:port` → address; anything else → undefined. */
export function parseListen(value: string): ListenAddress | null | undefined {
  if (value === 'off') return null;
  const v6 = /^\[([^\]]+)\]:([^:]+)$/.exec(value);
  if (v6) {
    const port = parsePort(v6[2] ?? '');
    return v6[1] !== undefined && isIP(v6[1]) === 6 && port !== undefined ? { host: v6[1], port } : undefined;
  }
  const plain = /^([^:[\]]+):([^:]+)$/.exec(value);
  if (!plain) return undefined;
  const host = plain[1] ?? '';
  const port = parsePort(plain[2] ?? '');
  if (port === undefined || !(isIP(host) === 4 || HOST_NAME.test(host))) return undefined;
  return { host, port };
}

export const DNS_SERVER_FORMAT = '"ip" or "ip:port" (IPv6 as "::1" or "[::1]:53")';

/** A DNS server: a bare IP (port 53) or ip:port; undefined when malformed. */
export function parseDnsServer(value: string): ListenAddress | undefined {
  if (isIP(value) !== 0) return { host: value, port: 53 };
  const parsed = parseListen(value);
  if (!parsed || isIP(parsed.host) === 0 || parsed.port === 0) return undefined;
  return parsed;
}

/** How to write an address back: `[::1]:143`, `127.0.0.1:25`. */
export function formatAddress(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** "192.0.2.0/24", "2001:db8::/32", or a bare address (a /32 or /128); undefined when malformed. */
export function parseCidr(value: string): Cidr | undefined {
  const [address = '', prefixText, extra] = value.split('/');
  if (extra !== undefined) return undefined;
  const v = isIP(address);
  if (v === 0) return undefined;
  const max = v === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}
