import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePorts } from '../../tools/servers/freePort.js';

/**
 * The rig's ports stay out of the kernel's range for outgoing connections, so no connection of the run can
 * take a server's port between the probe and the server's bind (a demo's Prosody once failed that way).
 */
describe('freePort', () => {
  it('hands out distinct ports below the ephemeral range, each free to bind', async () => {
    const start = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    const ports = await freePorts(40);
    assert.equal(new Set(ports).size, 40);
    for (const p of ports) assert.ok(p >= 20_000 && p < start, `${p} is not in [20000, ${start})`);
    for (const p of ports.slice(0, 5))
      await new Promise<void>((resolve, reject) => {
        const srv = createServer();
        srv.once('error', reject);
        srv.listen(p, '127.0.0.1', () => srv.close(() => resolve()));
      });
  });
});
