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
  /** Parley's own: the sender's JSON (ofchat's `data` property), carried beside the body. */
  parleyData: 'urn:parley:data:0',
  receipts: 'urn:xmpp:receipts',
  markers: 'urn:xmpp:chat-markers:0',
  chatStates: 'http://jabber.org/protocol/chatstates',
  sid: 'urn:xmpp:sid:0',
  delay: 'urn:xmpp:delay',
  carbons: 'urn:xmpp:carbons:2',
  forward: 'urn:xmpp:forward:0',
  mam: 'urn:xmpp:mam:2',
  rsm: 'http://jabber.org/protocol/rsm',
  hints: 'urn:xmpp:hints',
  roster: 'jabber:iq:roster',
  blocking: 'urn:xmpp:blocking',
  muc: 'http://jabber.org/protocol/muc',
  mucUser: 'http://jabber.org/protocol/muc#user',
  mucAdmin: 'http://jabber.org/protocol/muc#admin',
  mucOwner: 'http://jabber.org/protocol/muc#owner',
  conference: 'jabber:x:conference',
  pubsub: 'http://jabber.org/protocol/pubsub',
  vcard4: 'urn:ietf:params:xml:ns:vcard-4.0',
  search: 'jabber:iq:search',
} as const;
