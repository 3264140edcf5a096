import { ConfigError, loadConfig } from './config/loadConfig.js';
import { createLogger } from './log.js';
import { startParley } from './startParley.js';

/** Entry point: config → startParley → wait for SIGTERM/SIGINT → graceful stop. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`parley: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, { format: config.logFormat });
  const parley = await startParley(config, log);
  if (parley.secretGenerated)
    log.warn(
      { file: `${config.dataDir}/secret` },
      'generated a master secret (set PARLEY_SECRET in production)',
    );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await parley.stop().catch((err) => log.error({ err }, 'error during shutdown'));
    process.exit(0);
  };
  // @xmpp/connection 0.14 can leave an `online` promise pending-then-rejected when open() times out under load
  // (bench finding); one user's failed login must not take every other user's session down with the process.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`parley: failed to start: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});
