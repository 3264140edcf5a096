import { createHash } from 'node:crypto';
import { safeEqual } from '../crypto/tokens.js';
import { pyFloat, pyJsonDumps } from './pyJson.js';

/**
 * The two checksum schemes BBB-Chat clients speak (reference §1.1 and §1.3), both sha512 in lowercase hex:
 *  - v1: sha512(call + json.dumps(params) + secret + epoch), params in the order sent, without `checksum`;
 *  - RCP (rc-protocol 0.0.4, the v2 chat-bridge API): sha512(salt + Σ sorted(key + str(value)) + secret + epoch).
 * Verification tries every epoch in the scheme's window and compares in constant time (BBB-Chat used `==`).
 */
export type Params = Record<string, unknown>;

const sha512 = (s: string): string => createHash('sha512').update(s, 'utf8').digest('hex');

export function v1Checksum(call: string, params: Params, secret: string, epoch: number): string {
  return sha512(call + pyJsonDumps(params) + secret + String(epoch));
}

/** Python str() as rc-protocol 0.0.4 applies it (True/False/None; floats as repr). Lists and dicts are refused. */
export function rcpValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloat(v);
  throw new TypeError('RCP parameters must be strings, numbers, booleans or null');
}

/** Python's sorted() on str compares code points; JavaScript's default sort compares UTF-16 units. */
function byCodePoint(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

export function rcpPreimage(salt: string, params: Params, secret: string, epoch: number): string {
  const body = Object.keys(params)
    .sort(byCodePoint)
    .map((k) => k + rcpValue(params[k]))
    .join('');
  return salt + body + secret + String(epoch);
}

export function rcpChecksum(salt: string, params: Params, secret: string, epoch: number): string {
  return sha512(rcpPreimage(salt, params, secret, epoch));
}

/**
 * Epochs each scheme accepts around `now` for a window of `delta` seconds (BBB-Chat's
 * SHARED_SECRET_TIME_DELTA): v1 loops `now - i` for i in [-delta, delta) → [now-(delta-1), now+delta];
 * RCP loops `now + i` → [now-delta, now+delta-1]. The asymmetry is BBB-Chat's; clients depend on it.
 */
export function acceptedEpochs(scheme: 'v1' | 'rcp', now: number, delta: number): number[] {
  const out: number[] = [];
  for (let i = -delta; i < delta; i++) out.push(scheme === 'v1' ? now - i : now + i);
  return out;
}

export interface VerifyInput {
  scheme: 'v1' | 'rcp';
  name: string;
  params: Params;
  checksum: string;
  secret: string;
  now: number;
  delta: number;
}

/** True when `checksum` matches one epoch of the window. Every candidate is compared in constant time. */
export function verifyChecksum(v: VerifyInput): boolean {
  let ok = false;
  for (const epoch of acceptedEpochs(v.scheme, v.now, v.delta)) {
    const expected =
      v.scheme === 'v1'
        ? v1Checksum(v.name, v.params, v.secret, epoch)
        : rcpChecksum(v.name, v.params, v.secret, epoch);
    if (safeEqual(expected, v.checksum)) ok = true; // no early exit: timing says nothing about which epoch matched
  }
  return ok;
}

export const epochNow = (): number => Math.floor(Date.now() / 1000);
