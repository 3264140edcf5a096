// The @xmpp/client plugins createXmppClient composes that ship without type declarations
// (the others have them in @types/xmpp__*). Only what createXmppClient calls.
declare module '@xmpp/tcp' {
  export default function tcp(deps: { entity: unknown }): void;
}
declare module '@xmpp/tls' {
  export default function tls(deps: { entity: unknown }): void;
}
declare module '@xmpp/starttls' {
  export default function starttls(deps: { streamFeatures: unknown }): void;
}
declare module '@xmpp/sasl-plain' {
  export default function saslPlain(factory: unknown): void;
}
