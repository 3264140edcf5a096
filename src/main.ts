import { ConfigError, loadConfig } from './config/loadConfig.js';
import { createLogger } from './log.js';
import { startParley } from './startParley.js';
import { exitOnUncaught } from './exitOnUncaught.js';
import { connectionPatchApplied } from './xmpp/client/connectionPatch.js';
import { tuneGarbageCollector } from './gcTuning.js';

/** Entry point: config → startParley → wait for SIGTERM/SIGINT → graceful stop. */
async function main(): Promise<void> {
  tuneGarbageCollector();
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
  if (!connectionPatchApplied())
    log.error(
      'the @xmpp/connection patch is not applied: a server still sending to a closing session can crash ' +
        'the process; run `npx patch-package` in the install directory (npm ci --ignore-scripts skips it)',
    );
  const parley = await startParley(config, log);
  if (parley.secretGenerated)
    log.warn(
      { file: `${config.dataDir}/secret` },
      'generated a master secret (set PARLEY_SECRET in production)',
    );
  let stopping = false;
  let stopped: Promise<void> | undefined;
  const stop = async (signal: string) => {
    if (stopping) return stopped;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    stopped = parley.stop().catch((err) => log.error({ err }, 'error during shutdown'));
    await stopped;
  };
  // @xmpp/connection 0.14 can leave an `online` promise pending-then-rejected when open() times out under load
  // (bench finding); one user's failed login must not take every other user's session down with the process.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  // A throw from an event handler is different: log it, stop in order, exit non-zero, let systemd restart us.
  exitOnUncaught({
    log,
    stop: () => stop('uncaughtException'),
    exit: (code) => process.exit(code),
    on: (event, listener) => process.on(event, listener),
  });
  process.on('SIGTERM', () => void stop('SIGTERM').then(() => process.exit(0)));
  process.on('SIGINT', () => void stop('SIGINT').then(() => process.exit(0)));
}

main().catch((err) => {
  process.stderr.write(`parley: failed to start: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});
