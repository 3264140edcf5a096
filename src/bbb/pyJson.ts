/**
 * Python's default `json.dumps` (the serialisation BBB-Chat v1 hashes, reference §1.1 step 6), so a
 * checksum a Python client computed verifies here byte for byte:
 *   separators ", " and ": ", ensure_ascii (everything outside space..~ becomes \uXXXX in lowercase hex,
 *   astral characters as their UTF-16 surrogate pair), keys in insertion order, "/" not escaped.
 *
 * Numbers: integers print as integers; other numbers as Python's float repr (shortest round-trip digits,
 * exponent form below 1e-4 and from 1e16). A float literal with an integral value (Python's `1.0`) arrives
 * in JavaScript as the integer 1 and cannot be told apart; BBB-Chat's parameters are all strings.
 */
const NAMED_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

export function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const code = s.charCodeAt(i);
    const named = NAMED_ESCAPES[ch];
    if (named) out += named;
    else if (code >= 0x20 && code <= 0x7e) out += ch;
    else out += '\\u' + code.toString(16).padStart(4, '0');
  }
  return out + '"';
}

/** Python's repr() of a float, e.g. 1.5 → "1.5", 1e16 → "1e+16", 0.00001 → "1e-05". */
export function pyFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  const [mantissa, expText] = Math.abs(n).toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const digits = mantissa.replace('.', '');
  const sign = n < 0 || Object.is(n, -0) ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1) || '0';
  return `${sign}${int}.${frac}`;
}

export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number')
    return Number.isInteger(value) && !Object.is(value, -0) ? String(value) : pyFloat(value);
  if (typeof value === 'string') return pyString(value);
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${pyString(k)}: ${pyJsonDumps(v)}`).join(', ')}}`;
  }
  throw new TypeError(`cannot serialise a ${typeof value}`);
}
