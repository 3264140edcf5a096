import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project root (where package.json, openapi/ and src/store/migrations live), found by walking up
 * from this file, so the same code works when run from src/ with tsx or from a compiled dist/.
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'openapi'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the Parley project root (package.json + openapi/)');
}

export const PROJECT_ROOT = findRoot();
export const OPENAPI_FILE = join(PROJECT_ROOT, 'openapi', 'openapi.yaml');
export const MIGRATIONS_DIR = join(PROJECT_ROOT, 'src', 'store', 'migrations') + '/';
