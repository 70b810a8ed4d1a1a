// steadymail serve: run the server until SIGTERM or SIGINT.
import { formatAddress, type Config } from '../config/index.js';
import { prepareFirstRun, readFirstRun } from '../first-run.js';
import { createLogger } from '../log.js';
import { startServer, type ServerHandle } from '../server.js';
import { VERSION } from '../version.js';
import { cliConfig, type ConfigOption } from './context.js';

const SCHEMES: Partial<Record<string, string>> = { http: 'http://' };

/** What a person starting the server wants to know: where it listens and how to log in. */
async function banner(handle: ServerHandle, config: Config): Promise<string> {
  const lines = [`Steadymail ${VERSION} is running (data in ${config.dataDir})`];
  for (const [name, address] of handle.addresses) {
    const host = address.host === '0.0.0.0' || address.host === '::' ? 'localhost' : address.host;
    lines.push(`  ${name.padEnd(12)} ${SCHEMES[name] ?? ''}${formatAddress({ host, port: address.port })}`);
  }
  const demo = await readFirstRun(config);
  if (demo && (await handle.store.getAccount(demo.address))) {
    lines.push(
      process.stderr.isTTY
        ? `Log in as ${demo.address} with password ${demo.password} (from ${demo.file})`
        : `Log in as ${demo.address}; the password is in ${demo.file}`,
    );
  } else if ((await handle.store.listAccounts()).length === 0) {
    lines.push('No accounts yet. Add one with:', '  steadymail domain add example.com', '  steadymail user add you@example.com');
  } else {
    lines.push('Log in with a full address as the user name; manage accounts with `steadymail user`.');
  }
  return lines.join('\n');
}

export async function serve(options: ConfigOption): Promise<void> {
  const config = cliConfig(options);
  const logger = createLogger(config.log);
  const handle = await startServer({ config, logger });
  const created = await prepareFirstRun(handle.store, config);
  if (created) logger.info({ address: created.address, file: created.file }, 'created the demo account');
  process.stderr.write(`${await banner(handle, config)}\n`);

  let signals = 0;
  const stop = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    logger.info({ signal }, 'stopping');
    handle.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(70);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
