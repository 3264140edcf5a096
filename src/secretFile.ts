import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** PARLEY_SECRET, or for the demo one generated once and kept (mode 0600) in the data dir. */
export async function resolveSecret(
  configured: string | undefined,
  dataDir: string,
): Promise<{ secret: string; generated: boolean }> {
  if (configured) return { secret: configured, generated: false };
  const file = join(dataDir, 'secret');
  try {
    const kept = (await readFile(file, 'utf8')).trim();
    if (kept.length >= 16) return { secret: kept, generated: false };
  } catch {
    /* first start */
  }
  await mkdir(dataDir, { recursive: true });
  let secret: string;
  // Never a leading '-': `parley --secret <it>` would read it as an option (1 in 64 secrets did).
  do {
    secret = randomBytes(24).toString('base64url');
  } while (secret.startsWith('-'));
  await writeFile(file, secret + '\n', { mode: 0o600 });
  return { secret, generated: true };
}
