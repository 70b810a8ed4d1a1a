// steadymail domain add|list|remove|dkim
import { Command } from 'commander';
import { normalizeDomain } from '../address/index.js';
import { zoneLine } from '../ops/dns-records.js';
import { NotFound } from '../store/errors.js';
import { cliAudit, cliConfig, command, withStore, io, type ConfigOption } from './context.js';

export function domainCommand(): Command {
  const domain = new Command('domain').description('manage the domains this server receives mail for');

  domain.addCommand(
    command('add', 'start hosting a domain')
      .argument('<name>', 'domain name (IDN allowed)')
      .action(async (name: string, options: ConfigOption) => {
        const d = normalizeDomain(name);
        await withStore(options, (store) => store.createDomain(d));
        io().out(`added domain ${d}`);
      }),
  );

  domain.addCommand(
    command('list', 'list the hosted domains').action(async (options: ConfigOption) => {
      const domains = await withStore(options, (store) => store.listDomains());
      for (const d of domains) io().out(d.name);
    }),
  );

  domain.addCommand(
    command('remove', 'stop hosting a domain (refused while it has accounts or aliases, unless --force)')
      .argument('<name>', 'domain name')
      .option('--force', 'also remove its accounts, their mail, and its aliases')
      .action(async (name: string, options: ConfigOption & { force?: boolean }) => {
        const d = normalizeDomain(name);
        await withStore(options, (store) => store.deleteDomain(d, cliAudit(), { force: options.force === true }));
        io().out(`removed domain ${d}`);
      }),
  );

  domain.addCommand(
    command('dkim', 'create the DKIM signing key of a domain (kept if it exists) and print the DNS record to publish')
      .argument('<name>', 'domain name')
      .option('--selector <selector>', 'DKIM selector', 'steadymail')
      .action(async (name: string, options: ConfigOption & { selector: string }) => {
        const d = normalizeDomain(name);
        const config = cliConfig(options);
        // Imported here so that `--help` does not load the signing code.
        const { generateDkimKey } = await import('../smtp/queue/dkim.js');
        const key = await generateDkimKey(config.dataDir, d, options.selector);
        io().out(`${key.created ? 'created' : 'kept existing'} key ${key.path}`);
        // RFC 1035 3.3.14: one character-string holds at most 255 bytes.
        const strings = key.value.match(/.{1,255}/g) ?? [];
        io().out(`publish: ${key.name}. IN TXT ${strings.map((c) => `"${c}"`).join(' ')}`);
      }),
  );

  domain.addCommand(
    command('records', 'print the DNS records the domain should publish (MX, SPF, DKIM, DMARC, MTA-STS, RFC 6186 SRV, autoconfig)')
      .argument('<name>', 'domain name')
      .option('--check', 'also ask DNS (the [dns] servers) what it says now, one state per record')
      .action(async (name: string, options: ConfigOption & { check?: boolean }) => {
        const d = normalizeDomain(name);
        const config = cliConfig(options);
        await withStore(options, async (store) => {
          if (!(await store.getDomain(d))) throw new NotFound(`domain ${d} is not hosted here`);
        });
        const { domainRecords } = await import('../ops/domain-records.js');
        const records = await domainRecords(config, d);
        if (!options.check) {
          for (const r of records) io().out(zoneLine(r));
          return;
        }
        const { checkRecords } = await import('../ops/dns-check.js');
        for (const r of await checkRecords(records, { servers: config.dns.servers, timeoutMs: config.admin.dnsTimeoutMs })) {
          io().out(`${r.state}\t${zoneLine(r)}${r.state === 'different' ? `\t(DNS says: ${r.found.join(' | ')})` : ''}${r.error ? `\t(${r.error})` : ''}`);
        }
      }),
  );

  return domain;
}
