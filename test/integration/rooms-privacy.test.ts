import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gatewayFixture } from '../helpers/fixture.js';
import { basic, bearer, call, withToken } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { registerUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string; jid: string };
type Occupant = { nick: string; role: string; affiliation: string; jid?: string };
type Problem = { code: string; xmppCondition?: string };

/**
 * Room discovery asks as the caller, so the MUC service's own rules apply: a plain user cannot read another
 * room's affiliation lists or the real JIDs of a semi-anonymous room (Prosody's default: real JIDs for
 * moderators only); the owner can; the master secret (Parley's admin connection) can.
 */
describe('room discovery: the MUC service decides who sees what', function () {
  this.timeout(60_000);
  const fx = gatewayFixture();

  async function user(prefix: string) {
    const u = await registerUser(prefix);
    const l = (
      await call<Login>(`${fx.gw.url}/restapi/v1/chat/${u.username}/login`, {
        json: { password: u.password },
      })
    ).body;
    const events = new SseClient(withToken(l.events, l.token));
    fx.streams.push(events);
    await events.next((e) => e.name === 'chatapi.session' && e.data.snapshot === true);
    return { ...u, ...l, auth: bearer(l.token) };
  }
  const room = `private-${randomBytes(4).toString('hex')}`;
  let owner: Awaited<ReturnType<typeof user>>;
  let member: Awaited<ReturnType<typeof user>>;
  let stranger: Awaited<ReturnType<typeof user>>;
  const occupants = (auth: string) =>
    call<{ occupants: Occupant[] }>(`${fx.gw.url}/restapi/v1/chat/rooms/${room}/occupants`, { auth });
  const participants = (auth: string) =>
    call<{ participants: { jid: string; affiliation: string }[] }>(
      `${fx.gw.url}/restapi/v1/chat/rooms/${room}/participants`,
      { auth },
    );

  before(async () => {
    [owner, member, stranger] = [await user('owner'), await user('member'), await user('stranger')];
    const created = await call(`${fx.gw.url}/restapi/v1/chat/${owner.streamId}/rooms/${room}?nick=Owner`, {
      method: 'PUT',
      auth: owner.auth,
      json: { persistent: true },
    });
    assert.equal(created.status, 201, created.text);
    const made = await call(
      `${fx.gw.url}/restapi/v1/chat/${owner.streamId}/rooms/${room}/affiliations/${member.username}`,
      {
        method: 'PUT',
        auth: owner.auth,
        json: { affiliation: 'member' },
      },
    );
    assert.equal(made.status, 204, made.text);
    const joined = await call(`${fx.gw.url}/restapi/v1/chat/${member.streamId}/rooms/${room}?nick=Member`, {
      method: 'PUT',
      auth: member.auth,
    });
    assert.equal(joined.status, 200, joined.text);
  });

  it('a user outside the room gets 403 for its occupants and affiliation lists', async () => {
    for (const r of [await occupants(stranger.auth), await participants(stranger.auth)]) {
      assert.equal(r.status, 403, r.text);
      assert.equal((r.body as unknown as Problem).xmppCondition, 'forbidden');
    }
  });

  it('an occupant without rights sees the occupants without real JIDs, and no affiliation lists', async () => {
    const r = await occupants(member.auth);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.occupants.map((o) => o.nick).sort(), ['Member', 'Owner']);
    assert.deepEqual(
      r.body.occupants.filter((o) => o.jid !== undefined && !o.jid.startsWith(`${member.jid}/`)),
      [],
      'real JIDs of others in a semi-anonymous room (its own is fine)',
    );
    const p = await participants(member.auth);
    assert.equal(p.status, 403, p.text);
  });

  it('a user with no live session is told to log in, not answered over the admin connection', async () => {
    const u = await registerUser('nosession');
    const r = await participants(basic(u.username, u.password));
    assert.equal(r.status, 404, r.text);
    assert.equal((r.body as unknown as Problem).code, 'STREAM_NOT_FOUND');
  });

  it('the owner sees real JIDs and the affiliation lists', async () => {
    const r = await occupants(owner.auth);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.occupants.map((o) => [o.nick, o.jid?.split('/')[0]]).sort(), [
      ['Member', member.jid],
      ['Owner', owner.jid],
    ]);
    const p = await participants(owner.auth);
    assert.equal(p.status, 200, p.text);
    assert.deepEqual(p.body.participants.map((x) => [x.jid, x.affiliation]).sort(), [
      [member.jid, 'member'],
      [owner.jid, 'owner'],
    ]);
  });

  it('the master secret sees everything', async () => {
    const r = await occupants(fx.gw.secret);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.occupants.every((o) => o.jid !== undefined));
    const p = await participants(fx.gw.secret);
    assert.equal(p.status, 200, p.text);
    assert.equal(p.body.participants.length, 2);
  });
});
