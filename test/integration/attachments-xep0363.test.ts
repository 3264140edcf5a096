import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import xml, { type Element } from '@xmpp/xml';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { expectResponseMatchesSpec } from '../helpers/openapi.js';
import { SseClient } from '../helpers/sse.js';
import { rig } from '../rig/rig.js';
import { registerUser, type TestUser } from '../rig/users.js';
import { NS } from '../../src/xmpp/ns.js';
import { component, type Component } from '../../src/xmpp/component/ComponentEntity.js';
import { needs } from '../rig/needs.js';

type Login = { streamId: string; token: string; events: string; jid: string };

/**
 * A stand-in for the server's XEP-0363 service (Prosody's mod_http_file_share is not in the rig): an
 * external component that hands out slots, and a loopback HTTP server that stores what is PUT there.
 */
describe('attachments: upload through the XMPP server (XEP-0363)', function () {
  this.timeout(30_000);
  let gw: TestGateway;
  let http: Server;
  let svc: Component;
  const stored = new Map<string, { bytes: Buffer; type: string }>();
  const streams: SseClient[] = [];
  const requests: Element[] = [];

  before(async () => {
    http = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'PUT' && req.headers.authorization === 'Basic c2xvdA==') {
          stored.set(req.url!, { bytes: Buffer.concat(chunks), type: String(req.headers['content-type']) });
          res.writeHead(201).end();
        } else res.writeHead(req.method === 'PUT' ? 403 : 404).end();
      });
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const domain = `bbb.${rig.xmpp.domain}`; // free: the BBB bridge is off in these gateways
    svc = component({
      service: `xmpp://127.0.0.1:${rig.xmpp.componentPort}`,
      domain,
      password: rig.xmpp.componentSecret,
    });
    svc.on('error', () => undefined);
    svc.iqCallee.get(NS.discoInfo, 'query', () =>
      xml(
        'query',
        { xmlns: NS.discoInfo },
        xml('identity', { category: 'store', type: 'file', name: 'HTTP File Upload' }),
        xml('feature', { var: NS.upload }),
        xml(
          'x',
          { xmlns: NS.dataForms, type: 'result' },
          xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS.upload)),
          xml('field', { var: 'max-file-size' }, xml('value', {}, '1048576')),
        ),
      ),
    );
    svc.iqCallee.get(NS.upload, 'request', (ctx) => {
      requests.push(ctx.stanza);
      const path = `/slot/${requests.length}/${encodeURIComponent(String(ctx.stanza.getChild('request')!.attrs.filename))}`;
      return xml(
        'slot',
        { xmlns: NS.upload },
        xml(
          'put',
          { url: `${base}${path}` },
          xml('header', { name: 'Authorization' }, 'Basic c2xvdA=='),
          xml('header', { name: 'X-Evil' }, 'dropped'),
        ),
        xml('get', { url: `${base}${path}` }),
      );
    });
    await svc.start();
    gw = await startGateway();
  });
  after(async () => {
    for (const s of streams) s.close();
    await gw?.stop();
    await svc?.stop().catch(() => undefined);
    await new Promise((r) => http?.close(r));
  });

  const login = async (u: TestUser) =>
    (await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, { json: { password: u.password } }))
      .body;

  needs(
    'xep0363-stand-in-only',
    'the stand-in must be the only upload service the server lists, to see what Parley sends it',
  )('asks the server for a slot, PUTs the file there, and sends its URL', async () => {
    const [a, b] = [await registerUser('alice'), await registerUser('bob')];
    const [la, lb] = [await login(a), await login(b)];
    const bobTab = new SseClient(withToken(lb.events, lb.token));
    streams.push(bobTab);
    await bobTab.opened;

    const bytes = Buffer.from('%PDF-1.4\n% a tiny pdf-ish file\n');
    const res = await fetch(`${gw.url}/restapi/v1/chat/${la.streamId}/files?via=xmpp&name=doc.pdf`, {
      method: 'POST',
      headers: { Authorization: bearer(la.token), 'Content-Type': 'application/pdf' },
      body: new Uint8Array(bytes),
    });
    const text = await res.text();
    expectResponseMatchesSpec(
      'POST',
      '/restapi/v1/chat/{streamid}/files',
      res.status,
      res.headers.get('content-type') ?? '',
      text,
    );
    assert.equal(res.status, 201, text);
    const up = JSON.parse(text) as { id: string; url: string; type: string };
    assert.match(up.url, /^http:\/\/127\.0\.0\.1:\d+\/slot\/1\/doc\.pdf$/);
    const put = stored.get(new URL(up.url).pathname);
    assert.ok(put?.bytes.equals(bytes), 'the file went to the upload service byte-exact');
    assert.equal(put?.type, 'application/pdf');
    assert.deepEqual(requests[0]!.getChild('request')!.attrs, {
      xmlns: NS.upload,
      filename: 'doc.pdf',
      size: String(bytes.length),
      'content-type': 'application/pdf',
    });

    const sent = await call(`${gw.url}/restapi/v1/chat/${la.streamId}/messages/${b.username}`, {
      method: 'POST',
      auth: bearer(la.token),
      json: { body: 'the doc', attachments: [up.id] },
    });
    assert.equal(sent.status, 201, sent.text);
    const ev = await bobTab.next((e) => e.name === 'chatapi.chat' && e.data.body === 'the doc');
    assert.deepEqual(ev.data.attachments, [
      { url: up.url, name: 'doc.pdf', size: bytes.length, type: 'application/pdf' },
    ]);
  });
});
