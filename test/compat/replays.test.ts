import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gatewayFixture } from '../helpers/fixture.js';
import { approveOnceRequested } from '../helpers/subscriptions.js';
import { basic, bearer, call, withToken } from '../helpers/http.js';
import { SseClient, type ReceivedEvent } from '../helpers/sse.js';
import { registerUser, type TestUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';

/**
 * Published ofchat clients, replayed request for request against Parley's Openfire-compatible face, with
 * what each client then does with the answers (the status it tests, the JSON paths it reads). The clients
 * (read from their public source; their code is not copied here):
 *
 *  1. PHP server library — tailonperin/openfire-restapi, src/Openfire/OpenfireChat.php (login, enviarMensagem)
 *     and src/Openfire/Base.php (Laravel Http client: Basic credentials, JSON bodies; login with
 *     bodyFormat('none'), i.e. the raw password labelled application/json; `status() != 200` is a failure).
 *  2. Node archive reader — danZheng1993/hvr_stystem, server/api/controllers/chat.controller.js
 *     (getArchivedMessages: GET …/chat/{user}/messages?to=, raw master secret, reads `data.conversation`
 *     and wraps it in an array when it has no `length`).
 *  3. pade browser extension's history search — igniterealtime/Pade, docs/js/background.js
 *     (searchConversations / processConvSearch / checkForChatAPI: Basic user:password, reads
 *     `conversation` (array or object), `chatRoom`, `participantList[0|1]`, `conversationID`, `startDate`,
 *     `lastActivity`, `messages.message[].{from, sentDate, body}`).
 *  4. Fastpath visitor web page — a published "Omnichannel LH" page script (stored public copy; the code
 *     index names no repository for it): login (Accept text/plain, `response.ok`), EventSourcePolyfill on
 *     /sse/{user} with Basic, POST /ask/ (long poll; reads `groupchat === "revoked"` and
 *     `sender.split("@")[0]`), PUT the room `?service=conference`, GET participants (reads
 *     `participant[i].jid.split("/")[1]`), posts `encodeURIComponent(json)` labelled application/json and
 *     plain words, reads `chatapi.muc` bodies with `JSON.parse(decodeURIComponent(body))`, leaves, logs off.
 *  5. ofchat's own SSE demo page — igniterealtime/Openfire-Chat, src/apps/sse/index.html
 *     (EventSource on /sse/{username}, JSON.parse of every chatapi.* event).
 *  6. ofchat's README examples — igniterealtime/Openfire-Chat, README.md ("User cases": login with the
 *     password as payload, a JSON message "as text" with extra data, presence `?show=dnd&status=…`, an ask
 *     with "additional data", a room post of JSON with extra data) and its Swagger page
 *     (classes/swagger/chatapi.json.jsp: basePath `/rest/api`, login body `{}`).
 *
 * Where a client needs an Openfire admin's Basic credentials (the PHP library's configured account), the
 * replay uses the chat user's own Basic credentials or the master secret instead: admin Basic is another
 * part of issue 18.
 */
describe('ofchat clients replayed against the /rest/api face', function () {
  this.timeout(90_000);
  const fx = gatewayFixture({ perTest: true });
  const face = (path: string) => `${fx.gw.url}/rest/api/restapi/v1${path}`;
  const domain = () => rig.xmpp.domain;

  /** A user's event stream as ofchat clients open it: /sse/{username} with Basic user:password. */
  async function sse(u: TestUser): Promise<SseClient> {
    const events = new SseClient(`${fx.gw.url}/sse/${u.username}`, {
      headers: { Authorization: basic(u.username, u.password) },
    });
    fx.streams.push(events);
    await events.next((e) => e.name === 'chatapi.session' && e.data.snapshot === true);
    return events;
  }

  describe('1. PHP library (tailonperin/openfire-restapi OpenfireChat::enviarMensagem)', () => {
    it('logs in with the raw password labelled JSON, tests status 200, pastes the body into the message URL', async () => {
      const [from, to] = [await registerUser('php'), await registerUser('dest')];
      await call(face(`/chat/${to.username}/login`), { body: to.password }); // /sse/{user} needs a live session
      const inbox = await sse(to);
      const php = { Authorization: basic(from.username, from.password), 'Content-Type': 'application/json' };
      // login(): post($login, ['body' => $pass]) with bodyFormat('none')
      const login = await call(face(`/chat/${from.username}/login`), { body: from.password, headers: php });
      assert.equal(login.status, 200, 'the library throws "Problema ao efetuar login" on anything else');
      const chatStream = login.text;
      // enviarMensagem(): post("/rest/api/restapi/v1/chat/$chatStream/messages/{$to}@{$domain}", ['body' => $msg])
      const sent = await call(face(`/chat/${chatStream}/messages/${to.username}@${domain()}`), {
        json: { body: 'Olá do PHP' },
        headers: php,
      });
      assert.equal(sent.status, 200);
      const got = await inbox.next((e) => e.name === 'chatapi.chat' && e.data.body === 'Olá do PHP');
      assert.deepEqual(got.data.data, { body: 'Olá do PHP' });
    });
  });

  /** Alice and Bob exchange messages through the face, so that both have stored history. */
  async function chatted(): Promise<{ alice: TestUser; bob: TestUser }> {
    const [alice, bob] = [await registerUser('alice'), await registerUser('bob')];
    const bobEvents = await (async () => {
      await call(face(`/chat/${bob.username}/login`), { body: bob.password });
      return sse(bob);
    })();
    const sid = (await call(face(`/chat/${alice.username}/login`), { body: alice.password })).text;
    for (const body of ['first about insulin', 'second'])
      assert.equal(
        (await call(face(`/chat/${sid}/messages/${bob.username}`), { auth: fx.gw.secret, text: body }))
          .status,
        200,
      );
    await bobEvents.next((e) => e.name === 'chatapi.chat' && e.data.body === 'second');
    return { alice, bob };
  }

  describe('2. Node archive reader (danZheng1993/hvr_stystem getArchivedMessages)', () => {
    it('reads data.conversation, wrapping a single conversation in an array, and finds the messages', async () => {
      const { alice, bob } = await chatted();
      const r = await call<{ conversation?: unknown }>(
        face(`/chat/${alice.username}/messages?to=${bob.username}`),
        {
          headers: {
            'Content-Type': 'application/json',
            Authorization: fx.gw.secret,
            accept: 'application/json',
          },
        },
      );
      assert.equal(r.status, 200);
      // let messageList = messages.data.conversation; if (!messageList.length) messageList = [messageList]
      let messageList = r.body.conversation as unknown;
      if (!(messageList as { length?: number }).length) messageList = [messageList];
      const list = messageList as { messages: { message: { body: string }[] }; participantList: string[] }[];
      assert.equal(list.length, 1, 'one conversation, collapsed to an object as Jersey does');
      assert.deepEqual(
        list[0]!.messages.message.map((m) => m.body),
        ['first about insulin', 'second'],
      );
      assert.deepEqual(list[0]!.participantList, [
        `${alice.username}@${domain()}`,
        `${bob.username}@${domain()}`,
      ]);
    });
  });

  describe('3. pade history search (igniterealtime/Pade searchConversations)', () => {
    it('finds conversations by keyword with Basic, and reads what processConvSearch reads', async () => {
      const { alice, bob } = await chatted();
      const search = (keyword: string) =>
        call<{ conversation?: unknown }>(face(`/chat/${alice.username}/messages?keywords=${keyword}`), {
          headers: { authorization: basic(alice.username, alice.password), accept: 'application/json' },
        });
      const r = await search('insulin');
      assert.equal(r.status, 200);
      const c = r.body.conversation;
      const conversations = (c instanceof Array ? c : c ? [c] : []) as Record<string, unknown>[];
      assert.equal(conversations.length, 1, 'not "No conversations found"');
      const conv = conversations[0]!;
      const participants = conv.participantList as string[];
      let jid = conv.chatRoom ? String(conv.chatRoom) : participants[0]!.split('/')[0];
      if (jid === `${alice.username}@${domain()}`) jid = participants[1]!.split('/')[0];
      assert.equal(jid, `${bob.username}@${domain()}`);
      assert.ok(
        !Number.isNaN(Date.parse(String(conv.startDate))) &&
          !Number.isNaN(Date.parse(String(conv.lastActivity))),
      );
      assert.match(String(conv.conversationID), /^\d+$/);
      const messages = (conv.messages as { message: unknown }).message;
      const list = (messages instanceof Array ? messages : [messages]) as Record<string, string>[];
      for (const m of list) {
        assert.equal(typeof m.body, 'string');
        assert.ok(m.body!.includes('insulin'));
        assert.ok(!Number.isNaN(Date.parse(m.sentDate!)));
        assert.equal(m.from!.split('@')[0], alice.username);
      }
      // checkForChatAPI(): a search for "__DUMMY__" must not be an error (pade.chatAPIAvailable = !error)
      const dummy = await search('__DUMMY__');
      assert.equal(dummy.status, 200);
      assert.deepEqual(dummy.body, {}, '"No conversations found", not an error');
      // …and a wrong password is (the extension then hides the search)
      const refused = await call(face(`/chat/${alice.username}/messages?keywords=x`), {
        headers: { authorization: basic(alice.username, 'wrong'), accept: 'application/json' },
      });
      assert.equal(refused.status, 401);
      assert.equal(refused.text, '', 'response.json() throws: the extension marks the API unavailable');
      void bob;
    });
  });

  describe('4. Fastpath visitor web page (login, ask, meet the agent in the room, talk, leave)', () => {
    it('runs the page’s whole flow against an agent on Parley’s own face', async () => {
      // The agent: a Parley user on Parley's own face, on duty in a fresh workgroup.
      const agent = await registerUser('agent');
      const wg = `wg-${randomBytes(3).toString('hex')}`;
      assert.equal(
        (
          await call(`${fx.gw.url}/restapi/v1/ask/admin`, {
            auth: fx.gw.secret,
            json: { name: wg, description: 'Atendimento', members: agent.username },
          })
        ).status,
        201,
      );
      const al = (
        await call<{ streamId: string; token: string; events: string }>(
          `${fx.gw.url}/restapi/v1/chat/${agent.username}/login`,
          { json: { password: agent.password } },
        )
      ).body;
      const agentEvents = new SseClient(withToken(al.events, al.token));
      fx.streams.push(agentEvents);
      await agentEvents.next((e) => e.name === 'chatapi.session' && e.data.snapshot === true);
      const agentApi = (path: string, init: Parameters<typeof call>[1] = {}) =>
        call(`${fx.gw.url}/restapi/v1/chat/${al.streamId}${path}`, { auth: bearer(al.token), ...init });
      assert.equal((await agentApi(`/assists/${wg}`, { method: 'POST' })).status, 200);

      // The page: txtUsername / txtPassword from the URL, txtAuth the Authorization it sends everywhere.
      const user = await registerUser('visitor');
      const txtAuth = basic(user.username, user.password);
      // login(): POST …/chat/{user}/login, Content-Type application/json, Accept text/plain, no body
      const login = await call(face(`/chat/${user.username}/login`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'text/plain', Authorization: txtAuth },
      });
      assert.ok(login.status >= 200 && login.status < 300, 'response.ok');
      const ofchat = login.text;
      // loginSSE(): EventSourcePolyfill('/sse/' + user, {headers: {Authorization: Basic user:password}})
      const source = await sse(user);

      // reqserv(): the body is a hand-built JSON string; it waits for the expert (long poll)
      const question = 'Olá preciso de ajuda';
      const asked = call(face('/ask/'), {
        method: 'POST',
        body: `{"emailAddress": "${user.username}@lh.com.br", "question": "${question}", "userID": "${user.username}_web", "workgroup": "${wg}"}`,
        headers: { Accept: 'application/json', Authorization: txtAuth, 'Content-Type': 'application/json' },
      });
      const offer = await agentEvents.next(
        (e) => e.name === 'chatapi.assist' && e.data.type === 'offerReceived',
        20_000,
      );
      const accepted = await agentApi(`/offer/${offer.data.offerId}`, { method: 'POST' });
      assert.equal(accepted.status, 200, accepted.text);
      const reply = await asked;
      assert.ok(reply.status >= 200 && reply.status < 300, `"No agents logged in": ${reply.text}`);
      const jmsg = JSON.parse(reply.text) as { groupchat: string; sender: string };
      assert.notEqual(jmsg.groupchat, 'revoked');
      const room = jmsg.sender.split('@')[0]!;
      const invitation = await agentEvents.next(
        (e) => e.name === 'chatapi.muc' && e.data.type === 'invitationReceived',
      );
      assert.equal(invitation.data.room, jmsg.sender);

      // The agent enters the room; enterchat(): PUT …/chat/{ofchat}/rooms/{room}?service=conference
      const agentJoined = await agentApi(`/rooms/${jmsg.sender}`, { method: 'PUT' });
      assert.ok(agentJoined.status === 200 || agentJoined.status === 201, agentJoined.text);
      const enter = await call(face(`/chat/${ofchat}/rooms/${room}?service=conference`), {
        method: 'PUT',
        headers: { Authorization: txtAuth },
      });
      assert.ok(enter.status >= 200 && enter.status < 300, enter.text);

      // getagent(): GET …/chat/rooms/{room}/participants; the first occupant that is not the user is the agent
      const parts = await call(face(`/chat/rooms/${room}/participants`), {
        headers: { Accept: 'application/json', Authorization: txtAuth },
      });
      assert.ok(parts.status >= 200 && parts.status < 300);
      const p = (JSON.parse(parts.text) as { participant: Record<string, { jid: string }> }).participant;
      let found: string | undefined;
      for (const dest in p) {
        if (p[dest]!.jid.split('/')[1] !== user.username) {
          found = p[dest]!.jid.split('/')[1];
          break;
        }
      }
      assert.equal(found, agent.username, 'the page finds its agent among the occupants');

      // sendMsg(): encodeURIComponent(json) labelled application/json; response.text() is shown as "Sent.."
      const text = 'Minha glicemia está alta';
      const jsonMsg = `{ "type" : "Text", "data" : "${text}"}`;
      const sent = await call(face(`/chat/${ofchat}/rooms/${room}`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: txtAuth },
        body: encodeURIComponent(jsonMsg),
      });
      assert.equal(sent.status, 200);
      assert.equal(sent.text, '');
      const atAgent = await agentEvents.next(
        (e) =>
          e.name === 'chatapi.muc' &&
          e.data.type === 'groupchat' &&
          e.data.body === encodeURIComponent(jsonMsg),
      );
      assert.equal(String(atAgent.data.from).split('/')[1], user.username);
      // sendMsgBtn(): an option's plain word, labelled application/json
      assert.equal(
        (
          await call(face(`/chat/${ofchat}/rooms/${room}`), {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Authorization: txtAuth },
            body: 'Sim',
          })
        ).status,
        200,
      );
      await agentEvents.next((e) => e.name === 'chatapi.muc' && e.data.body === 'Sim');

      // The agent answers the page's way; the page's chatapi.muc handler decodes it.
      const answer = encodeURIComponent('{ "type" : "Text", "data" : "Tome água"}');
      assert.equal(
        (
          await agentApi(`/rooms/${jmsg.sender}`, {
            body: answer,
            headers: { 'Content-Type': 'application/json' },
          })
        ).status,
        201,
      );
      // (The page's handler takes every groupchat not from itself; the workgroup's own posts in the room —
      // the question, a welcome — are not JSON and throw in that handler, here as with ofchat's Fastpath.)
      const muc = await source.next(
        (e: ReceivedEvent) =>
          e.name === 'chatapi.muc' &&
          e.data.type === 'groupchat' &&
          String(e.data.from).split('/')[1] === agent.username,
      );
      const jmsgdata = JSON.parse(decodeURIComponent(String(muc.data.body))) as {
        type: string;
        data: string;
      };
      assert.deepEqual(jmsgdata, { type: 'Text', data: 'Tome água' });

      // closechat(), logoff(): DELETE the room, POST logoff — response.ok each time
      const left = await call(face(`/chat/${ofchat}/rooms/${room}?service=conference`), {
        method: 'DELETE',
        headers: { Authorization: txtAuth },
      });
      assert.equal(left.status, 200);
      const off = await call(face(`/chat/${ofchat}/logoff`), {
        method: 'POST',
        headers: { Authorization: txtAuth },
      });
      assert.equal(off.status, 200);
    });

    it('answers a cancelled request with groupchat "revoked" (the page then shows "Canceled")', async () => {
      const agent = await registerUser('agent');
      const wg = `wg-${randomBytes(3).toString('hex')}`;
      await call(`${fx.gw.url}/restapi/v1/ask/admin`, {
        auth: fx.gw.secret,
        json: { name: wg, members: agent.username },
      });
      const userID = `v${randomBytes(3).toString('hex')}_web`;
      const asked = call(face('/ask/'), {
        method: 'POST',
        json: { emailAddress: 'v@lh.com.br', question: 'oi', userID, workgroup: wg },
        headers: { Accept: 'application/json', Authorization: fx.gw.secret },
      });
      // cancelserv(): DELETE …/ask/{userID} — once the request is queued
      let queued = false;
      for (let i = 0; i < 200 && !queued; i++) {
        const q = await call<{ inQueue: string }>(face(`/ask/${userID}`), { auth: fx.gw.secret });
        queued = q.status === 200 && q.body.inQueue === 'true';
        if (!queued) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(queued, 'the request joined the queue');
      const cancel = await call(face(`/ask/${userID}`), { method: 'DELETE', auth: fx.gw.secret });
      assert.equal(cancel.status, 200);
      const reply = await asked;
      assert.equal(reply.status, 200);
      assert.equal((JSON.parse(reply.text) as { groupchat: string }).groupchat, 'revoked');
    });
  });

  describe('5. ofchat’s SSE demo page (igniterealtime/Openfire-Chat src/apps/sse/index.html)', () => {
    it('gets every chatapi.* event on /sse/{username} as JSON, presence with type "presence"', async () => {
      const [deleo, expert] = [await registerUser('deleo'), await registerUser('expert')];
      await call(face(`/chat/${deleo.username}/login`), { body: deleo.password });
      const demo = await sse(deleo);
      const sid = (await call(face(`/chat/${expert.username}/login`), { body: expert.password })).text;
      // deleo follows the expert (README: presence goes to "followers"): a subscription the expert approves.
      const dsid = (await call(face(`/chat/${deleo.username}/login`), { body: deleo.password })).text;
      const follow = await call(`${fx.gw.url}/restapi/v1/chat/${dsid}/contacts`, {
        auth: fx.gw.secret,
        json: { jid: `${expert.username}@${domain()}`, subscribe: true },
      });
      assert.ok(follow.status < 300, follow.text);
      await approveOnceRequested(fx.gw.url, sid, fx.gw.secret, `${deleo.username}@${domain()}`);
      assert.equal(
        (await call(face(`/chat/${sid}/messages/${deleo.username}`), { auth: fx.gw.secret, text: 'hello' }))
          .status,
        200,
      );
      const chat = await demo.next((e) => e.name === 'chatapi.chat' && e.data.body === 'hello');
      assert.equal(chat.data.type, 'chat');
      // README: POST …/presence?show=dnd&status=very%20busy → {from, show, status, to, type: "presence"}
      assert.equal(
        (
          await call(face(`/chat/${sid}/presence?show=dnd&status=very%20busy`), {
            method: 'POST',
            auth: fx.gw.secret,
          })
        ).status,
        200,
      );
      const presence = await demo.next(
        (e) => e.name === 'chatapi.presence' && e.data.show === 'dnd' && e.data.status === 'very busy',
        15_000,
      );
      assert.equal(presence.data.type, 'presence');
      assert.equal(String(presence.data.from).split('/')[0], `${expert.username}@${domain()}`);
    });
  });

  describe('6. ofchat’s README and Swagger examples', () => {
    it('login with `{}` (Swagger) and the master secret; JSON "as text" with extra data; a room post of JSON', async () => {
      const [a, b] = [await registerUser('readme'), await registerUser('other')];
      await call(face(`/chat/${b.username}/login`), { body: b.password });
      const inbox = await sse(b);
      const sid = (await call(face(`/chat/${a.username}/login`), { body: a.password })).text;
      const again = await call(face(`/chat/${a.username}/login`), {
        auth: fx.gw.secret,
        body: '{}',
        headers: { 'Content-Type': 'application/json' },
      });
      assert.equal(again.text, sid, 'the master secret reuses the live session');
      const asText = JSON.stringify({ body: 'desired message', extra: 'extra data' });
      assert.equal(
        (
          await call(face(`/chat/${sid}/messages/${b.username}@${domain()}`), {
            auth: fx.gw.secret,
            text: asText,
          })
        ).status,
        200,
      );
      const m = await inbox.next((e) => e.name === 'chatapi.chat' && e.data.body === 'desired message');
      assert.deepEqual(m.data.data, { body: 'desired message', extra: 'extra data' });
      // Rooms: join, then post the README's JSON "as text" with `?service=conference`.
      const room = `readme-${randomBytes(3).toString('hex')}`;
      const bsid = (await call(face(`/chat/${b.username}/login`), { body: b.password })).text;
      for (const s of [sid, bsid])
        assert.equal(
          (
            await call(face(`/chat/${s}/rooms/${room}?service=conference`), {
              method: 'PUT',
              auth: fx.gw.secret,
            })
          ).status,
          200,
        );
      assert.equal(
        (
          await call(face(`/chat/${sid}/rooms/${room}?service=conference`), {
            auth: fx.gw.secret,
            text: asText,
          })
        ).status,
        200,
      );
      const g = await inbox.next(
        (e) => e.name === 'chatapi.muc' && e.data.type === 'groupchat' && e.data.body === 'desired message',
      );
      assert.deepEqual(g.data.data, { body: 'desired message', extra: 'extra data' });
      assert.equal(String(g.data.from), `${room}@conference.${domain()}/${a.username}`);
      // Occupants as ofchat's OccupantEntities (two occupants: an array).
      const occ = await call<{
        occupant: { jid: string; role: string; affiliation: string; userAddress: string }[];
      }>(face(`/chat/rooms/${room}/occupants?servicename=conference`), { auth: fx.gw.secret });
      assert.equal(occ.status, 200);
      assert.deepEqual(
        occ.body.occupant.map((o) => o.jid.split('/')[1]).sort(),
        [a.username, b.username].sort(),
      );
    });

    it('ask with "additional data" (README): extra fields are ignored, not refused', async () => {
      const agent = await registerUser('agent');
      const wg = `wg-${randomBytes(3).toString('hex')}`;
      await call(`${fx.gw.url}/restapi/v1/ask/admin`, {
        auth: fx.gw.secret,
        json: { name: wg, members: agent.username },
      });
      // Parley's own face: queued at once (202), extra fields ignored.
      const userID = `visitor${randomBytes(2).toString('hex')}`;
      const own = await call<{ status: string }>(`${fx.gw.url}/restapi/v1/ask`, {
        json: {
          emailAddress: 'visitor@hospital.com',
          userID,
          question: 'What is the meaning of life',
          workgroup: wg,
          priority: 'high',
          tags: ['a'],
        },
      });
      assert.equal(own.status, 202, own.text);
      // The ofchat face, with nobody on duty and a 1 s wait: "Timeout error, no agent available".
    });
  });
});
