// Mail addresses and domain names as an operator types them, normalised to the form the
// store keeps: lower case, domains in IDNA A-label (punycode) form.
import { domainToASCII } from 'node:url';

export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// RFC 5322 3.2.3 atext, plus UTF-8 for SMTPUTF8 (RFC 6531) local parts.
const ATOM = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+$/u;

/** `Bücher.Example.` → `xn--bcher-kva.example`. */
export function normalizeDomain(input: string): string {
  const trimmed = input.trim().replace(/\.$/, '');
  const ascii = trimmed === '' ? '' : domainToASCII(trimmed.toLowerCase());
  const labels = ascii.split('.');
  if (ascii === '' || ascii.length > 253 || labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^\d+$/.test(labels.at(-1) ?? '')) {
    throw new AddressError(`invalid domain name ${JSON.stringify(input)}`);
  }
  return ascii;
}

/** `Alice@Bücher.example` → `alice@xn--bcher-kva.example`. */
export function normalizeAddress(input: string): string {
  const trimmed = input.trim();
  const at = trimmed.lastIndexOf('@');
  if (at <= 0) throw new AddressError(`invalid address ${JSON.stringify(input)}: expected local@domain`);
  const local = trimmed.slice(0, at).toLowerCase();
  if (local.length > 64 || !local.split('.').every((atom) => ATOM.test(atom))) {
    throw new AddressError(`invalid address ${JSON.stringify(input)}: bad local part`);
  }
  let domain: string;
  try {
    domain = normalizeDomain(trimmed.slice(at + 1));
  } catch {
    throw new AddressError(`invalid address ${JSON.stringify(input)}: bad domain`);
  }
  return `${local}@${domain}`;
}

/** An alias source: an address, or `@domain` for the domain's catch-all. */
export function normalizeAliasSource(input: string): string {
  const trimmed = input.trim();
  if (trimmed.startsWith('@')) {
    try {
      return `@${normalizeDomain(trimmed.slice(1))}`;
    } catch {
      throw new AddressError(`invalid catch-all ${JSON.stringify(input)}: expected @domain`);
    }
  }
  return normalizeAddress(trimmed);
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}
