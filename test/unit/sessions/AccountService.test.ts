import assert from 'node:assert/strict';
import xml, { type Element } from '@xmpp/xml';
import { AccountService } from '../../../src/sessions/AccountService.js';
import type { Account } from '../../../src/sessions/SessionStore.js';
import { SecretBox } from '../../../src/crypto/SecretBox.js';
import { BridgeError } from '../../../src/errors/BridgeError.js';
import { LoginTokens, isToken } from '../../../src/xmpp/client/LoginTokens.js';
import type { AdminIq } from '../../../src/xmpp/admin/provisioning.js';
import { NS } from '../../../src/xmpp/ns.js';

/** An XMPP server's XEP-0133 add-user as Prosody (an error note) or ejabberd (a conflict error) answers it. */
function fakeServer(existing: Set<string>, style: 'prosody' | 'ejabberd') {
  const added: string[] = [];
  const asked: string[] = [];
  const admin: AdminIq = {
    iq: async (stanza: Element) => {
      const command = stanza.getChild('command', NS.commands)!;
      asked.push(String(command.attrs.action));
      if (command.attrs.action === 'execute')
        return xml('iq', { type: 'result' }, xml('command', { xmlns: NS.commands, sessionid: 's1' }));
      const jid = command
        .getChild('x', NS.dataForms)!
        .getChildren('field')
        .find((f) => f.attrs.var === 'accountjid')!
        .getChildText('value')!;
      if (existing.has(jid)) {
        if (style === 'ejabberd')
          throw new BridgeError('CONFLICT', 'add-user refused by the XMPP server (conflict)');
        return xml(
          'iq',
          { type: 'result' },
          xml(
            'command',
            { xmlns: NS.commands, status: 'completed' },
            xml('note', { type: 'error' }, 'Account already exists'),
          ),
        );
      }
      existing.add(jid);
      added.push(jid);
      return xml('iq', { type: 'result' }, xml('command', { xmlns: NS.commands, status: 'completed' }));
    },
  };
  return { admin, added, asked };
}

function service(opts: {
  existing?: string[];
  style?: 'prosody' | 'ejabberd';
  tokens?: boolean;
  admin?: boolean;
}) {
  const rows = new Map<string, Account>();
  const server = fakeServer(new Set(opts.existing ?? []), opts.style ?? 'prosody');
  const accounts = new AccountService({
    store: { getAccount: async (u) => rows.get(u), saveAccount: async (a) => void rows.set(a.username, a) },
    box: new SecretBox('x'.repeat(32)),
    admin: opts.admin === false ? undefined : server.admin,
    domain: 'example.org',
    tokens: opts.tokens ? new LoginTokens('k'.repeat(40)) : undefined,
  });
  return { accounts, rows, added: server.added, asked: server.asked };
}

describe('AccountService', () => {
  it('without login tokens: creates and keeps an account, and refuses one it did not create (409)', async () => {
    const { accounts, rows } = service({ existing: ['old@example.org'] });
    assert.equal(typeof (await accounts.credentialFor('new')), 'string');
    assert.ok(rows.has('new'));
    await assert.rejects(accounts.credentialFor('old'), (e: BridgeError) => e.code === 'ACCOUNT_NOT_MANAGED');
  });

  for (const style of ['prosody', 'ejabberd'] as const) {
    it(`with login tokens (${style}): an existing account gets a token, untouched and asked about once`, async () => {
      const { accounts, rows, added, asked } = service({
        existing: ['old@example.org'],
        tokens: true,
        style,
      });
      const first = await accounts.credentialFor('old');
      assert.ok(isToken(first));
      assert.equal(rows.size, 0, 'nothing is stored for an account Parley did not create');
      assert.deepEqual(added, []);
      const iqs = asked.length;
      assert.ok(isToken(await accounts.credentialFor('old')));
      assert.equal(asked.length, iqs, 'known to exist: no second add-user');
    });
  }

  it('with login tokens: a missing account is created (and kept) first, then logs in with a token', async () => {
    const { accounts, rows, added } = service({ tokens: true });
    assert.ok(isToken(await accounts.credentialFor('fresh')));
    assert.deepEqual(added, ['fresh@example.org']);
    assert.ok(rows.has('fresh'), 'kept like every account Parley creates');
    assert.ok(isToken(await accounts.credentialFor('fresh')));
    assert.deepEqual(added, ['fresh@example.org'], 'not asked again');
  });

  it('with login tokens and no admin JID: a token at once (the server decides)', async () => {
    const { accounts, added } = service({ tokens: true, admin: false });
    assert.ok(isToken(await accounts.credentialFor('anyone')));
    assert.deepEqual(added, []);
  });
});
