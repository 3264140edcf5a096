// Minimal types for @xmpp/component 0.13 (the package ships none): only what Parley uses.
declare module '@xmpp/component' {
  import type { Element } from '@xmpp/xml';
  import type { EventEmitter } from 'node:events';

  interface IqContext {
    stanza: Element;
    element: Element;
    from: string;
    to: string;
    id: string;
    type: string;
  }
  type IqHandler = (
    ctx: IqContext,
    next: () => Promise<unknown>,
  ) => Promise<Element | undefined | void> | Element | undefined | void;

  interface Component extends EventEmitter {
    status: string;
    jid: { toString(): string } | null;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    connect(service: string): Promise<unknown>;
    open(opts: { domain: string }): Promise<unknown>;
    disconnect(): Promise<unknown>;
    send(...stanzas: Element[]): Promise<void>;
    reconnect: { stop(): void; delay: number };
    iqCaller: { request(el: Element, timeout?: number): Promise<Element> };
    iqCallee: {
      get(ns: string, name: string, handler: IqHandler): void;
      set(ns: string, name: string, handler: IqHandler): void;
    };
    socket?: { setNoDelay?(v: boolean): void };
  }
  export function component(options: { service: string; domain: string; password: string }): Component;
  // eslint-disable-next-line @typescript-eslint/consistent-type-imports -- an ambient module cannot import
  export const xml: typeof import('@xmpp/xml').default;
}
