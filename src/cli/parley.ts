/** `npm run parley -- <command>` (and the `parley` bin, through bin.mjs): the admin CLI. See runCli.ts. */
import { runCli } from './runCli.js';

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
});
