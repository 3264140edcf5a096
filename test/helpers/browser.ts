import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths.js';

/** Debian's Chromium (scripts/ensure-system.sh installs it), driven by playwright-core: never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless, and nothing that reaches for the network on its own: this machine's closed network refuses
 * Chromium's background connections many at a time.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// The committed screenshots (docs/web-client.md) are refreshed on request only, so a test run leaves the
// tree clean; otherwise every run's screens go to test/e2e/screenshots/latest/ (git-ignored) for a look.
export const SHOTS = join(
  PROJECT_ROOT,
  'test',
  'e2e',
  'screenshots',
  process.env.PARLEY_UPDATE_SCREENSHOTS === '1' ? '' : 'latest',
);

export const DESKTOP = { width: 1000, height: 640 };
export const PHONE = { width: 390, height: 740 };
