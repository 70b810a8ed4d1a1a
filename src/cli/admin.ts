// steadymail admin add|passwd|remove|list and admin token create|list|revoke: the
// operator console's accounts and API tokens. Every change is written to the audit log.
import { Command } from 'commander';
import { createAdminToken } from '../auth/admin.js';
import { hashPassword } from '../auth/password.js';
import { NotFound } from '../store/errors.js';
import type { Store } from '../store/store.js';
import { CliError, cliAudit, command, EXIT, withStore, io, type ConfigOption } from './context.js';
import { readNewPassword } from './password-input.js';

async function audited(store: Store, action: string, subject: string, detail: Record<string, unknown> = {}): Promise<void> {
  await store.audit({ actor: cliAudit().actor, action, accountId: null, subject, reason: 'with the command line', detail });
}

export function adminCommand(): Command {
  const admin = new Command('admin').description('manage operator console accounts and API tokens');

  admin.addCommand(
    command('add', 'create an admin account for the console at /admin')
      .argument('<name>', 'admin name (letters, digits, ".", "_", "-")')
      .option('--password-stdin', 'read the password from standard input')
      .action(async (name: string, options: ConfigOption & { passwordStdin?: boolean }) => {
        await withStore(options, async (store) => {
          if (await store.admin.getAdmin(name)) throw new CliError(EXIT.cantCreate, `admin ${name.toLowerCase()} already exists`);
        });
        const passwordHash = await hashPassword(await readNewPassword(options));
        const created = await withStore(options, async (store) => {
          const a = await store.admin.createAdmin(name, passwordHash);
          await audited(store, 'admin.add', a.name);
          return a;
        });
        io().out(`added admin ${created.name}`);
      }),
  );

  admin.addCommand(
    command('passwd', "set an admin's password (ends its console sessions)")
      .argument('<name>', 'admin name')
      .option('--password-stdin', 'read the password from standard input')
      .action(async (name: string, options: ConfigOption & { passwordStdin?: boolean }) => {
        await withStore(options, async (store) => {
          if (!(await store.admin.getAdmin(name))) throw new NotFound(`admin ${name.toLowerCase()} does not exist`);
        });
        const passwordHash = await hashPassword(await readNewPassword(options));
        await withStore(options, async (store) => {
          await store.admin.setAdminPassword(name, passwordHash);
          await audited(store, 'admin.passwd', name.toLowerCase());
        });
        io().out(`changed the password of admin ${name.toLowerCase()}`);
      }),
  );

  admin.addCommand(
    command('remove', 'remove an admin account (its sessions end)')
      .argument('<name>', 'admin name')
      .action(async (name: string, options: ConfigOption) => {
        await withStore(options, async (store) => {
          await store.admin.deleteAdmin(name);
          await audited(store, 'admin.remove', name.toLowerCase());
        });
        io().out(`removed admin ${name.toLowerCase()}`);
      }),
  );

  admin.addCommand(
    command('list', 'list admin accounts').action(async (options: ConfigOption) => {
      const admins = await withStore(options, (store) => store.admin.listAdmins());
      for (const a of admins) io().out(`${a.name}\tcreated ${a.createdAt.toISOString()}`);
    }),
  );

  const token = new Command('token').description('API tokens: `Authorization: Bearer <token>` on every /api/admin/ route');
  token.addCommand(
    command('create', 'create an API token and print it (it is shown only this once)')
      .option('--label <text>', 'what the token is for', '')
      .action(async (options: ConfigOption & { label: string }) => {
        if (options.label.length > 200) throw new CliError(EXIT.dataError, 'the label must be at most 200 characters');
        const { token: t, secret } = await withStore(options, async (store) => {
          const created = await createAdminToken(store, options.label, cliAudit().actor);
          await audited(store, 'token.create', created.token.id, { label: options.label });
          return created;
        });
        io().out(secret);
        io().error(`created token ${t.id}; store it now, it cannot be shown again\n`);
      }),
  );
  token.addCommand(
    command('list', 'list API tokens (id, state, label, created, last used)').action(async (options: ConfigOption) => {
      const tokens = await withStore(options, (store) => store.admin.listTokens());
      for (const t of tokens) {
        io().out([t.id, t.revokedAt ? 'revoked' : 'active', t.label, t.createdAt.toISOString(), t.lastUsedAt?.toISOString() ?? 'never'].join('\t'));
      }
    }),
  );
  token.addCommand(
    command('revoke', 'revoke an API token; it is refused from then on')
      .argument('<id>', 'token id (the part after sma_)')
      .action(async (id: string, options: ConfigOption) => {
        await withStore(options, async (store) => {
          await store.admin.revokeToken(id);
          await audited(store, 'token.revoke', id);
        });
        io().out(`revoked token ${id}`);
      }),
  );
  admin.addCommand(token);
  return admin;
}
