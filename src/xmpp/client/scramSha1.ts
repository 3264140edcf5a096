import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/**
 * SASL SCRAM-SHA-1 (RFC 5802) for @xmpp/sasl, with the PBKDF2 in node:crypto on libuv's thread pool.
 *
 * Why not the library's: its PBKDF2 is JavaScript, ~1 s of event-loop CPU per login at 10,000 iterations
 * (DESIGN.md §5), which is why logins used PLAIN — and PLAIN makes the server run the PBKDF2 instead, on
 * Prosody's one thread (~6 ms a login of its CPU; docs/accounts.md). Here the gateway pays it off its event
 * loop, in parallel, and only once per password, salt and iteration count: the salted password is kept
 * (bounded, keyed by a hash of those) so a user's later logins — reconnects, new tabs, Basic-auth checks —
 * cost a few HMACs on both sides.
 *
 * The server's final message (`v=`) is not checked: @xmpp/sasl hands a mechanism no <success/> data.
 */
export class ScramSha1 {
  static readonly mechanismName = 'SCRAM-SHA-1';
  readonly name = ScramSha1.mechanismName;
  readonly clientFirst = true;
  #clientNonce = '';
  #clientFirstBare = '';
  #serverFirst: string | undefined;

  constructor(private readonly cache: SaltedPasswords = sharedCache) {}

  /** The client-first message, then (after the server-first challenge) the client-final one. */
  async response(cred: { username: string; password: string }): Promise<string> {
    if (this.#serverFirst === undefined) {
      this.#clientNonce = randomBytes(18).toString('base64');
      this.#clientFirstBare = `n=${saslName(cred.username)},r=${this.#clientNonce}`;
      return `n,,${this.#clientFirstBare}`;
    }
    const attrs = parseAttributes(this.#serverFirst);
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (!nonce?.startsWith(this.#clientNonce) || nonce === this.#clientNonce)
      throw new Error('SCRAM-SHA-1: the server nonce does not extend ours');
    if (!salt || !Number.isInteger(iterations) || iterations < 1)
      throw new Error('SCRAM-SHA-1: no salt or iteration count in the server-first message');
    const salted = await this.cache.get(cred.password, Buffer.from(salt, 'base64'), iterations);
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const proof = hmac(salted, 'Client Key');
    const signature = hmac(createHash('sha1').update(proof).digest(), authMessage);
    for (let i = 0; i < proof.length; i++) proof[i]! ^= signature[i]!;
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** The server-first message (nonce, salt, iterations): the next response() answers it. */
  async challenge(serverFirst: string): Promise<void> {
    this.#serverFirst = serverFirst;
  }
}

/** PBKDF2-HMAC-SHA1 results by (password, salt, iterations), the oldest dropped past `max`. */
export class SaltedPasswords {
  readonly #entries = new Map<string, Promise<Buffer>>();
  constructor(private readonly max = 10_000) {}

  get(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
    // A hash of the inputs as the key: the map holds no password.
    const key = createHash('sha256')
      .update(password)
      .update('\u0000')
      .update(salt)
      .update(`\u0000${iterations}`)
      .digest('base64');
    const hit = this.#entries.get(key);
    if (hit) {
      this.#entries.delete(key); // most recently used last
      this.#entries.set(key, hit);
      return hit;
    }
    const derived = pbkdf2Async(password, salt, iterations, 20, 'sha1');
    this.#entries.set(key, derived);
    derived.catch(() => this.#entries.delete(key));
    while (this.#entries.size > this.max) this.#entries.delete(this.#entries.keys().next().value!);
    return derived;
  }

  get size(): number {
    return this.#entries.size;
  }
}

const sharedCache = new SaltedPasswords();

/** RFC 5802 §5.1: `=` and `,` in a name are escaped. */
function saslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function parseAttributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part[0]!, part.slice(2));
  }
  return out;
}

const hmac = (key: Buffer, data: string): Buffer => createHmac('sha1', key).update(data).digest();
