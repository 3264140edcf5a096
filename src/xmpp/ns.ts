/**
 * Every XML namespace Parley speaks, declared once.
 * References: RFC 6120/6121, XEP-0030, XEP-0050, XEP-0133, XEP-0198, XEP-0004 and the XEPs named below.
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
  /** XEP-0115 entity capabilities; XEP-0353 Jingle Message Initiation, XEP-0166/0167 Jingle RTP; Parley's call options */
  caps: 'http://jabber.org/protocol/caps',
  jingleMessage: 'urn:xmpp:jingle-message:0',
  jingle: 'urn:xmpp:jingle:1',
  jingleRtp: 'urn:xmpp:jingle:apps:rtp:1',
  jingleRtpAudio: 'urn:xmpp:jingle:apps:rtp:audio',
  jingleRtpVideo: 'urn:xmpp:jingle:apps:rtp:video',
  parleyCall: 'urn:parley:call:0',
  roster: 'jabber:iq:roster',
  blocking: 'urn:xmpp:blocking',
  muc: 'http://jabber.org/protocol/muc',
  mucUser: 'http://jabber.org/protocol/muc#user',
  mucAdmin: 'http://jabber.org/protocol/muc#admin',
  mucOwner: 'http://jabber.org/protocol/muc#owner',
  conference: 'jabber:x:conference',
  pubsub: 'http://jabber.org/protocol/pubsub',
  pubsubEvent: 'http://jabber.org/protocol/pubsub#event',
  /** XEP-0402 PEP native bookmarks; XEP-0048 bookmarks in XEP-0049 private XML storage (the fallback) */
  bookmarks: 'urn:xmpp:bookmarks:1',
  bookmarksCompat: 'urn:xmpp:bookmarks:1#compat',
  privateStorage: 'jabber:iq:private',
  legacyBookmarks: 'storage:bookmarks',
  vcard4: 'urn:ietf:params:xml:ns:vcard-4.0',
  search: 'jabber:iq:search',
  bind: 'urn:ietf:params:xml:ns:xmpp-bind',
  /** XEP-0045 §10.1 room configuration form (its FORM_TYPE) */
  mucRoomConfig: 'http://jabber.org/protocol/muc#roomconfig',
  /** XEP-0223 persistent PEP items: the publish-options form's FORM_TYPE */
  pubsubPublishOptions: 'http://jabber.org/protocol/pubsub#publish-options',
  pubsubOwner: 'http://jabber.org/protocol/pubsub#owner',
  pubsubNodeConfig: 'http://jabber.org/protocol/pubsub#node_config',
  /** Parley's own: a user's profile properties, one PEP item each */
  parleyProfile: 'urn:parley:profile:0',
  /** XEP-0172 user nickname */
  nick: 'http://jabber.org/protocol/nick',
  /** XEP-0066 out-of-band data (attachment URLs) */
  oob: 'jabber:x:oob',
  /** XEP-0363 HTTP file upload */
  upload: 'urn:xmpp:http:upload:0',
  /** XEP-0377 spam reporting */
  reporting: 'urn:xmpp:reporting:1',
  /** XEP-0142 workgroups, and the Fastpath (Openfire) extensions beside it */
  workgroup: 'http://jabber.org/protocol/workgroup',
  jiveWorkgroup: 'http://jivesoftware.com/protocol/workgroup',
} as const;
