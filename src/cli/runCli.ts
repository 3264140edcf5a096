import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, parseEnv } from 'node:util';
import { OPTIONS, USAGE, idsAsPositionals } from './args.js';
import pg from 'pg';
import { ConfigError, loadConfig } from '../config/loadConfig.js';
import { CliError, GatewayClient, type AdminSession } from './GatewayClient.js';
import { createPgMaintenance } from '../messages/maintenance.js';
import { TimedDb } from '../store/TimedDb.js';
import { listDeadLetters, replayDeadLetters } from './deadLetters.js';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  out(line: string): void;
  err(line: string): void;
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** Runs one command; resolves to the process exit code (0 ok, 1 failed, 2 usage or configuration). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: idsAsPositionals(argv),
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    io.err(`parley: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    io.out(USAGE);
    return values.help ? 0 : 2;
  }
  try {
    const env = values['env-file']
      ? { ...parseEnv(readFileSync(values['env-file'], 'utf8')), ...io.env }
      : io.env;
    return await dispatch(positionals, values, env, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`parley: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof ConfigError) {
      io.err(`parley: ${err.message}`);
      return 2;
    }
    io.err(`parley: ${(err as Error).message ?? err}`);
    return 1;
  }
}

async function dispatch(args: string[], v: Values, env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [command, sub, ...rest] = args;
  switch (command) {
    case 'sessions':
      return v.db ? sessionsFromDb(v, env, io) : sessions(v, env, io);
    case 'kick': {
      if (!sub || rest.length) throw new CliError('usage: parley kick <streamid>', 2);
      const found = await (await gateway(v, env)).kick(sub);
      if (!found) throw new CliError(`no live session ${sub} on this gateway`);
      io.out(`kicked ${sub}`);
      return 0;
    }
    case 'callbacks':
      return callbacks(sub, rest, v, env, io);
    case 'attachments':
      return attachments(sub, rest, v, env, io);
    case 'purge': {
      const days = integer(v.days, '--days', 1);
      const result = await withPool(v, env, (pool) =>
        createPgMaintenance(new TimedDb(pool)).purge({
          days,
          dryRun: v['dry-run'],
          batch: v.batch ? integer(v.batch, '--batch', 1) : undefined,
        }),
      );
      if (v.json) io.out(JSON.stringify(result));
      else
        io.out(
          `${result.dryRun ? 'would delete' : 'deleted'} ${result.messages} messages and ${result.events} events sent before ${result.cutoff.toISOString()}`,
        );
      return 0;
    }
    default:
      throw new CliError(`unknown command "${command}"\n\n${USAGE}`, 2);
  }
}

async function attachments(
  sub: string | undefined,
  ids: string[],
  v: Values,
  env: NodeJS.ProcessEnv,
  io: CliIo,
): Promise<number> {
  if (sub === 'cleanup') {
    if (ids.length) throw new CliError('usage: parley attachments cleanup --days N', 2);
    const r = await (await gateway(v, env)).cleanupAttachments(integer(v.days, '--days', 0));
    if (v.json) io.out(JSON.stringify(r));
    else
      io.out(
        `removed ${r.removed} file(s) uploaded more than ${r.days} days ago, freed ${r.freedBytes} bytes, updated ${r.messagesUpdated} message(s)`,
      );
    return 0;
  }
  if (sub !== 'compress' || (v.all ? ids.length > 0 : ids.length === 0))
    throw new CliError('usage: parley attachments cleanup --days N | compress <id>... | compress --all', 2);
  const gw = await gateway(v, env);
  let failed = 0;
  const one = async (id: string): Promise<void> => {
    const r = await gw.compress(id);
    if (!r) failed++;
    if (v.json) io.out(JSON.stringify({ id, ...(r ?? { error: 'not found' }) }));
    else if (!r) io.err(`${id}: no such file`);
    else if (r.compressed) io.out(`${id}: ${r.originalSize} → ${r.size} bytes (${r.type})`);
    else io.out(`${id}: kept (${r.reason})`);
  };
  if (!v.all) {
    for (const id of ids) await one(id);
    return failed ? 1 : 0;
  }
  // Each file is tried once (the gateway marks it), so this ends even where nothing gets smaller.
  let batch;
  while ((batch = await gw.compressible(50)).length) for (const f of batch) await one(f.id);
  return failed ? 1 : 0;
}

async function sessions(v: Values, env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const { instanceId, sessions: list } = await (await gateway(v, env)).sessions();
  if (v.json) {
    io.out(JSON.stringify({ instanceId, sessions: list }));
    return 0;
  }
  io.out(
    table(
      ['STREAM', 'USER', 'STATE', 'STREAMS', 'LAST ACTIVITY'],
      list.map((s: AdminSession) => [s.streamId, s.jid, s.state, String(s.openStreams), s.lastActivity]),
    ),
  );
  io.out(`${list.length} session(s) on ${instanceId}`);
  return 0;
}

async function sessionsFromDb(v: Values, env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const rows = await withPool(
    v,
    env,
    async (pool) =>
      (
        await pool.query<{
          stream_id: string;
          jid: string;
          instance_id: string;
          state: string;
          created_at: Date;
        }>(
          'SELECT stream_id, jid, instance_id, state, created_at FROM sessions WHERE ended_at IS NULL ORDER BY created_at',
        )
      ).rows,
  );
  if (v.json) {
    io.out(JSON.stringify(rows));
    return 0;
  }
  io.out(
    table(
      ['STREAM', 'USER', 'INSTANCE', 'STATE', 'SINCE'],
      rows.map((r) => [r.stream_id, r.jid, r.instance_id, r.state, r.created_at.toISOString()]),
    ),
  );
  return 0;
}

async function callbacks(
  sub: string | undefined,
  ids: string[],
  v: Values,
  env: NodeJS.ProcessEnv,
  io: CliIo,
): Promise<number> {
  if (sub === 'list') {
    const limit = v.limit ? integer(v.limit, '--limit', 1) : 100;
    const dead = v.db
      ? await withPool(v, env, (pool) => listDeadLetters(pool, limit))
      : await (await gateway(v, env)).deadLetters(limit);
    const rows: Record<string, unknown>[] = dead.map((d) => ({
      id: d.id,
      url: d.url,
      attempts: d.attempts,
      last_status: d.lastStatus,
      last_error: d.lastError,
      dead_at: d.deadAt,
    }));
    if (v.json) {
      io.out(JSON.stringify(rows));
      return 0;
    }
    const columns = rows[0] ? Object.keys(rows[0]) : ['id'];
    io.out(
      table(
        columns.map((c) => c.toUpperCase()),
        rows.map((r) => columns.map((c) => cell(r[c]))),
      ),
    );
    io.out(`${rows.length} dead-lettered callback(s)`);
    return 0;
  }
  if (sub === 'replay') {
    if (!v.all && ids.length === 0) throw new CliError('usage: parley callbacks replay <id>... | --all', 2);
    let replayed: string[] | number;
    if (v.db) {
      replayed = await withPool(v, env, (pool) => replayDeadLetters(pool, v.all ? 'all' : ids));
    } else {
      const client = await gateway(v, env);
      replayed = v.all ? await client.replayAll() : [];
      for (const id of v.all ? [] : ids) if (await client.replay(id)) (replayed as string[]).push(id);
    }
    const count = typeof replayed === 'number' ? replayed : replayed.length;
    if (v.json) io.out(JSON.stringify({ replayed }));
    else
      io.out(
        `requeued ${count} callback(s)${Array.isArray(replayed) && count ? ': ' + replayed.join(', ') : ''}`,
      );
    const missing =
      Array.isArray(replayed) && !v.all ? ids.filter((id) => !(replayed as string[]).includes(id)) : [];
    if (missing.length) {
      io.err(`parley: not dead-lettered (or unknown): ${missing.join(', ')}`);
      return 1;
    }
    return 0;
  }
  throw new CliError('usage: parley callbacks list | parley callbacks replay <id>... | --all  [--db]', 2);
}

async function gateway(v: Values, env: NodeJS.ProcessEnv): Promise<GatewayClient> {
  const config = loadConfig(env);
  const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? '127.0.0.1' : config.http.host;
  const url = v.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`;
  let secret = v.secret ?? config.secret;
  if (!secret)
    secret = (await readFile(join(config.dataDir, 'secret'), 'utf8').catch(() => '')).trim() || undefined;
  if (!secret) throw new CliError('no master secret: set PARLEY_SECRET (or --env-file, --secret)', 2);
  return new GatewayClient(url, secret);
}

async function withPool<T>(v: Values, env: NodeJS.ProcessEnv, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const url = v['database-url'] ?? loadConfig(env).database.url;
  if (!url) throw new CliError('no database: set DATABASE_URL (or --env-file, --database-url)', 2);
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

function integer(raw: string | undefined, name: string, min: number): number {
  const n = Number(raw);
  if (raw === undefined || !Number.isInteger(n) || n < min)
    throw new CliError(`${name} needs a whole number ≥ ${min}`, 2);
  return n;
}

const cell = (v: unknown): string =>
  v instanceof Date
    ? v.toISOString()
    : v === null || v === undefined
      ? ''
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => Math.min(60, (r[i] ?? '').length))),
  );
  const line = (r: string[]) =>
    r
      .map((c, i) => (c.length > 60 ? c.slice(0, 59) + '…' : c).padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
