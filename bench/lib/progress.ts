/** Progress on stderr while the bench runs: elapsed time, scenario, what is happening. */

const t0 = performance.now();
let scenario = 'setup';

export function elapsed(): number {
  return (performance.now() - t0) / 1000;
}

export function setScenario(name: string): void {
  scenario = name;
}

export function progress(msg: string): void {
  process.stderr.write(`[${elapsed().toFixed(1).padStart(6)}s] ${scenario.padEnd(10)} ${msg}\n`);
}
