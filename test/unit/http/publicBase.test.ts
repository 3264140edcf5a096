import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { Context } from 'koa';
import { publicBase } from '../../../src/http/publicBase.js';

/** Only the socket's local end is read: a request's Host header has no say. */
const reached = (localAddress: string, localPort: number): Pick<Context, 'req'> =>
  ({ req: { socket: { localAddress, localPort } as Socket, headers: { host: 'evil.example' } } }) as Pick<
    Context,
    'req'
  >;

describe('publicBase', () => {
  it('uses PARLEY_PUBLIC_URL when set, without a trailing slash', () => {
    assert.equal(
      publicBase(reached('127.0.0.1', 8080), 'https://chat.example.org/'),
      'https://chat.example.org',
    );
  });

  it('else the local address the connection reached, never the Host header', () => {
    assert.equal(publicBase(reached('127.0.0.1', 8080)), 'http://127.0.0.1:8080');
    assert.equal(publicBase(reached('::ffff:127.0.0.1', 8080)), 'http://127.0.0.1:8080');
    assert.equal(publicBase(reached('::1', 9000)), 'http://[::1]:9000');
  });
});
