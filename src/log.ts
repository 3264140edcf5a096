import { pino, type Logger } from 'pino';

export type Log = Logger;

/** One root logger per process, passed down; children name their component (`log.child({ c: 'sse' })`). */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Log {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination as never);
}
