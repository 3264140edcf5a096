import xml, { type Element } from '@xmpp/xml';
import { NS } from '../ns.js';
import { BridgeError } from '../../errors/BridgeError.js';
import type { AdminConnection } from './AdminConnection.js';

/**
 * XEP-0133 service administration, run by the admin JID:
 *   https://xmpp.org/extensions/xep-0133.html#add-user
 *   https://xmpp.org/extensions/xep-0133.html#change-user-password
 * Each command is two steps: execute (server answers a form and a sessionid), then complete with the form.
 * A duplicate add-user comes back differently per server, both meaning "exists": Prosody completes the
 * command with an error *note*; ejabberd's mod_configure answers the complete step with a <conflict/> error.
 */
export type AdminIq = Pick<AdminConnection, 'iq'>;

export async function addUser(
  admin: AdminIq,
  domain: string,
  jid: string,
  password: string,
): Promise<'created' | 'exists'> {
  let note;
  try {
    note = await runCommand(admin, domain, NS.adminAddUser, [
      ['accountjid', jid],
      ['password', password],
      ['password-verify', password],
    ]);
  } catch (err) {
    if (err instanceof BridgeError && (err.code === 'CONFLICT' || err.extra.xmppCondition === 'conflict'))
      return 'exists';
    throw err;
  }
  if (note?.type === 'error') {
    if (/exist/i.test(note.text)) return 'exists';
    throw new BridgeError('XMPP_REFUSED', `add-user refused: ${note.text}`, { xmppCondition: 'bad-request' });
  }
  return 'created';
}

export async function changePassword(
  admin: AdminIq,
  domain: string,
  jid: string,
  password: string,
): Promise<void> {
  const note = await runCommand(admin, domain, NS.adminChangePassword, [
    ['accountjid', jid],
    ['password', password],
  ]);
  if (note?.type === 'error')
    throw new BridgeError('XMPP_REFUSED', `change-user-password refused: ${note.text}`, {
      xmppCondition: 'bad-request',
    });
}

async function runCommand(
  admin: AdminIq,
  domain: string,
  node: string,
  fields: [string, string][],
): Promise<{ type: string; text: string } | undefined> {
  const first = await admin.iq(
    xml('iq', { type: 'set', to: domain }, xml('command', { xmlns: NS.commands, node, action: 'execute' })),
    10_000,
    node.split('#')[1],
  );
  const sessionid = first.getChild('command', NS.commands)?.attrs.sessionid as string | undefined;
  const form = xml(
    'x',
    { xmlns: NS.dataForms, type: 'submit' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS.adminForm)),
    ...fields.map(([name, value]) => xml('field', { var: name }, xml('value', {}, value))),
  );
  const done = await admin.iq(
    xml(
      'iq',
      { type: 'set', to: domain },
      xml(
        'command',
        { xmlns: NS.commands, node, action: 'complete', ...(sessionid ? { sessionid } : {}) },
        form,
      ),
    ),
    10_000,
    node.split('#')[1],
  );
  return readNote(done.getChild('command', NS.commands));
}

function readNote(command: Element | undefined): { type: string; text: string } | undefined {
  const note = command?.getChild('note');
  return note ? { type: String(note.attrs.type ?? 'info'), text: note.text() } : undefined;
}
