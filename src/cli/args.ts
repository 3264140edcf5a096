/** The CLI's usage text and options, and how its arguments are read before parseArgs sees them. */

export const USAGE = `parley — Parley admin CLI

Usage: parley [options] <command>

Commands (gateway API, master secret):
  sessions                     live sessions on the gateway (--db: every instance's, from PostgreSQL)
  kick <streamid>              end a session (its clients get chatapi.session offline, reason "kicked")
  callbacks list               dead-lettered callbacks (--limit N, default 100)
  callbacks replay <id>...     put dead-lettered callbacks back in the delivery queue (--all: every one)
                               (callbacks --db: straight from the callback_outbox table, gateway not needed)
  attachments cleanup --days N delete files uploaded more than N days ago (messages keep a placeholder)
  attachments compress <id>... re-encode video/audio files smaller (ffmpeg on the gateway host)
  attachments compress --all   every live video/audio file not tried yet, oldest first, one at a time
Commands (PostgreSQL, DATABASE_URL):
  purge --days N               delete messages older than N days and their events (--dry-run: count only)

Options:
  --env-file FILE    read variables from FILE (e.g. /etc/parley/parley.env); the environment wins
  --url URL          the gateway (default http://PARLEY_HOST:PARLEY_PORT)
  --secret S         master secret (default PARLEY_SECRET, else $PARLEY_DATA_DIR/secret)
  --database-url U   PostgreSQL (default DATABASE_URL)
  --json             machine-readable output
  -h, --help         this text
`;

export const OPTIONS = {
  'env-file': { type: 'string' },
  url: { type: 'string' },
  secret: { type: 'string' },
  'database-url': { type: 'string' },
  json: { type: 'boolean' },
  db: { type: 'boolean' },
  all: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  days: { type: 'string' },
  limit: { type: 'string' },
  batch: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * File ids are base64url, and one in 64 begins with '-': `attachments compress -wX…` read as short options.
 * A run of arguments at the end that starts with such a word (not `-h`, not an option's value) and holds
 * no option is taken as positionals, as if it followed `--`.
 */
export function idsAsPositionals(argv: string[]): string[] {
  const i = argv.findIndex((a) => /^-[^-]/.test(a) && a !== '-h');
  if (i < 0 || argv.includes('--')) return argv;
  const before = argv[i - 1];
  const takesValue =
    before?.startsWith('--') && OPTIONS[before.slice(2) as keyof typeof OPTIONS]?.type === 'string';
  if (takesValue || argv.slice(i).some((a) => a.startsWith('--') || a === '-h')) return argv;
  return [...argv.slice(0, i), '--', ...argv.slice(i)];
}
