import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Bench accounts in bulk. `prosodyctl register` costs ~40 ms per user (one Lua process each): 10,000
 * users would take minutes. Prosody's `internal_hashed` accounts are small Lua files, so the bench
 * writes them itself, exactly as prosodyctl would (SCRAM-SHA-1 stored/server keys, checked against a
 * prosodyctl-made file), with one salt for all bench users so PBKDF2 runs once.
 * The iteration count is Prosody's default (10,000): it is what a PLAIN login makes Prosody compute.
 */

// Prosody's util.datamanager encodes every non-alphanumeric byte of a path segment as %xx.
const encode = (s: string): string =>
  s.replace(/[^a-zA-Z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

export async function writeProsodyAccounts(
  dataDir: string,
  domain: string,
  users: string[],
  password: string,
  iterations = 10_000,
): Promise<void> {
  const salt = 'parley-bench-0000-0000-000000000000';
  const salted = pbkdf2Sync(password, salt, iterations, 20, 'sha1');
  const storedKey = createHash('sha1')
    .update(createHmac('sha1', salted).update('Client Key').digest())
    .digest('hex');
  const serverKey = createHmac('sha1', salted).update('Server Key').digest('hex');
  const file = `return {\n\t["server_key"] = "${serverKey}";\n\t["iteration_count"] = ${iterations};\n\t["stored_key"] = "${storedKey}";\n\t["salt"] = "${salt}";\n};\n`;
  const dir = join(dataDir, encode(domain), 'accounts');
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < users.length; i += 256) {
    await Promise.all(
      users.slice(i, i + 256).map((u) => {
        if (!/^[a-z0-9]+$/.test(u)) throw new Error(`bench usernames are [a-z0-9]+ (got ${u})`);
        return writeFile(join(dir, `${u}.dat`), file);
      }),
    );
  }
}

/** `prefix0001` … : alphanumeric, so file names need no encoding. */
export function userNames(prefix: string, n: number, from = 0): string[] {
  const width = Math.max(4, String(from + n).length);
  return Array.from({ length: n }, (_, i) => `${prefix}${String(from + i).padStart(width, '0')}`);
}
