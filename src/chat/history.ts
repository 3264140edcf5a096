import { BridgeError } from '../errors/BridgeError.js';

/** `MM/dd/yy` (ofchat) or ISO; `edge` picks the start or end of an ofchat day. */
export function parseHistoryDate(raw: string, edge: 'start' | 'end', name: string): Date {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})$/.exec(raw.trim());
  let d: Date;
  if (m) {
    const year = m[3]!.length === 2 ? 2000 + Number(m[3]) : Number(m[3]);
    d = new Date(Date.UTC(year, Number(m[1]) - 1, Number(m[2])));
    if (d.getUTCMonth() !== Number(m[1]) - 1)
      throw new BridgeError('VALIDATION_FAILED', `${name}: "${raw}" is not a date`, {
        errors: [{ path: `query.${name}`, message: 'not a date' }],
      });
    if (edge === 'end') d = new Date(d.getTime() + 86_400_000 - 1);
  } else {
    d = new Date(raw);
  }
  if (Number.isNaN(d.getTime())) {
    throw new BridgeError('VALIDATION_FAILED', `${name}: "${raw}" is neither ISO 8601 nor MM/dd/yy`, {
      errors: [{ path: `query.${name}`, message: 'expected ISO 8601 or MM/dd/yy' }],
    });
  }
  return d;
}
