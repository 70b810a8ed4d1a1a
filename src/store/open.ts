// PLACEHOLDER until the real store lands from main: a JSON-file store that knows only
// domains, accounts and aliases, so the platform (config, CLI, server) can be built and
// tested. Replaced wholesale by main's src/store/open.ts on merge.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountUpdate, NewAccount, Store } from './store.js';
import type { Account, Alias, Domain, RecipientResolution } from './types.js';
import { AlreadyExists, NotFound, StoreError } from './errors.js';

interface Data {
  nextId: number;
  domains: Domain[];
  accounts: Account[];
  aliases: Alias[];
}

export type OpenStoreOptions = { driver: 'sqlite'; dataDir: string } | { driver: 'postgres'; url: string; dataDir: string };

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  mkdirSync(options.dataDir, { recursive: true });
  const file = join(options.dataDir, 'placeholder-store.json');
  const load = (): Data => {
    try {
      const d = JSON.parse(readFileSync(file, 'utf8')) as Data;
      for (const x of [...d.domains, ...d.accounts]) x.createdAt = new Date(x.createdAt);
      return d;
    } catch {
      return { nextId: 1, domains: [], accounts: [], aliases: [] };
    }
  };
  const save = (d: Data): void => {
    writeFileSync(`${file}.tmp`, JSON.stringify(d));
    renameSync(`${file}.tmp`, file);
  };
  const notYet = (): never => {
    throw new Error('not available in the placeholder store');
  };
  const domainOf = (d: Data, address: string): Domain => {
    const name = address.slice(address.lastIndexOf('@') + 1);
    const domain = d.domains.find((x) => x.name === name);
    if (!domain) throw new NotFound(`domain ${name} does not exist`);
    return domain;
  };
  const store: Store = {
    driver: options.driver,
    get blobs() {
      return notYet();
    },
    bus: { publish: () => undefined, subscribe: () => () => undefined, close: async () => undefined },
    async createDomain(name) {
      const d = load();
      if (d.domains.some((x) => x.name === name)) throw new AlreadyExists(`domain ${name} already exists`);
      const domain = { id: d.nextId++, name, createdAt: new Date() };
      d.domains.push(domain);
      save(d);
      return domain;
    },
    async getDomain(name) {
      return load().domains.find((x) => x.name === name);
    },
    async listDomains() {
      return load().domains;
    },
    async deleteDomain(name, _audit, opts) {
      const d = load();
      const domain = d.domains.find((x) => x.name === name);
      if (!domain) throw new NotFound(`domain ${name} does not exist`);
      const used = d.accounts.some((a) => a.domainId === domain.id) || d.aliases.some((a) => a.domainId === domain.id);
      if (used && opts?.force !== true) throw new StoreError('in-use', `domain ${name} still has accounts or aliases`);
      d.domains = d.domains.filter((x) => x.id !== domain.id);
      d.accounts = d.accounts.filter((x) => x.domainId !== domain.id);
      d.aliases = d.aliases.filter((x) => x.domainId !== domain.id);
      save(d);
    },
    async createAccount(a: NewAccount) {
      const d = load();
      const domain = domainOf(d, a.address);
      if (d.accounts.some((x) => x.address === a.address)) throw new AlreadyExists(`account ${a.address} already exists`);
      const account: Account = {
        id: d.nextId++,
        address: a.address,
        domainId: domain.id,
        passwordHash: a.passwordHash,
        quotaBytes: a.quotaBytes ?? 0,
        usedBytes: 0,
        disabled: false,
        createdAt: new Date(),
      };
      d.accounts.push(account);
      save(d);
      return account;
    },
    async getAccount(address) {
      return load().accounts.find((x) => x.address === address);
    },
    async getAccountById(id) {
      return load().accounts.find((x) => x.id === id);
    },
    async listAccounts(domain) {
      const d = load();
      const dom = d.domains.find((x) => x.name === domain);
      return d.accounts.filter((a) => domain === undefined || a.domainId === dom?.id);
    },
    async updateAccount(id, update: AccountUpdate) {
      const d = load();
      const account = d.accounts.find((x) => x.id === id);
      if (!account) throw new NotFound(`account ${id} does not exist`);
      Object.assign(account, update);
      save(d);
      return account;
    },
    async deleteAccount(id) {
      const d = load();
      if (!d.accounts.some((x) => x.id === id)) throw new NotFound(`account ${id} does not exist`);
      d.accounts = d.accounts.filter((x) => x.id !== id);
      save(d);
    },
    async addAlias(source, targets) {
      const d = load();
      const domain = domainOf(d, source);
      if (d.aliases.some((x) => x.source === source)) throw new AlreadyExists(`alias ${source} already exists`);
      const alias = { id: d.nextId++, source, domainId: domain.id, targets };
      d.aliases.push(alias);
      save(d);
      return alias;
    },
    async listAliases(domain) {
      const d = load();
      const dom = d.domains.find((x) => x.name === domain);
      return d.aliases.filter((a) => domain === undefined || a.domainId === dom?.id);
    },
    async removeAlias(source) {
      const d = load();
      if (!d.aliases.some((x) => x.source === source)) throw new NotFound(`alias ${source} does not exist`);
      d.aliases = d.aliases.filter((x) => x.source !== source);
      save(d);
    },
    async resolveRecipient(): Promise<RecipientResolution> {
      return notYet();
    },
    listMailboxes: notYet,
    getMailbox: notYet,
    getMailboxById: notYet,
    createMailbox: notYet,
    renameMailbox: notYet,
    deleteMailbox: notYet,
    setSubscribed: notYet,
    appendMessage: notYet,
    deliverMessage: notYet,
    listMessages: notYet,
    getMessages: notYet,
    updateFlags: notYet,
    expungeMessages: notYet,
    copyMessages: notYet,
    moveMessages: notYet,
    changesSince: notYet,
    audit: async () => undefined,
    listAudit: async () => [],
    acquireLease: notYet,
    renewLease: notYet,
    releaseLease: notYet,
    collectGarbage: notYet,
    stats: notYet,
    ping: async () => undefined,
    close: async () => undefined,
  };
  return store;
}
