/**
 * Every XML namespace Parley speaks, declared once.
 * References: RFC 6120/6121, XEP-0030, XEP-0050, XEP-0133, XEP-0198, XEP-0004.
 */
export const NS = {
  client: 'jabber:client',
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  commands: 'http://jabber.org/protocol/commands',
  adminAddUser: 'http://jabber.org/protocol/admin#add-user',
  adminChangePassword: 'http://jabber.org/protocol/admin#change-user-password',
  adminForm: 'http://jabber.org/protocol/admin',
  dataForms: 'jabber:x:data',
  discoInfo: 'http://jabber.org/protocol/disco#info',
  discoItems: 'http://jabber.org/protocol/disco#items',
  sm: 'urn:xmpp:sm:3',
  ping: 'urn:xmpp:ping',
} as const;
