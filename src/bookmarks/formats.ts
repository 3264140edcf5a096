/**
 * A room bookmark in its two wire forms.
 * XEP-0402 (PEP native bookmarks): one PEP item per room, its id the room's JID:
 *   <item id="room@conference.example.org">
 *     <conference xmlns="urn:xmpp:bookmarks:1" name="…" autojoin="true"><nick>…</nick><password>…</password></conference>
 *   </item>
 * XEP-0048 in XEP-0049 private XML storage (the fallback): one document holding every bookmark:
 *   <storage xmlns="storage:bookmarks"><conference jid="…" name="…" autojoin="true"><nick/>…</conference><url …/></storage>
 * References: https://xmpp.org/extensions/xep-0402.html, xep-0048.html, xep-0049.html.
 */
import xml, { type Element } from '@xmpp/xml';
import { NS } from '../xmpp/ns.js';
import { bareJid } from '../xmpp/jid.js';

export interface Bookmark {
  /** the room's bare JID */
  jid: string;
  name: string | null;
  autojoin: boolean;
  nick: string | null;
  password: string | null;
}

const truthy = (v: unknown): boolean => v === 'true' || v === '1';
const textOf = (el: Element, name: string, ns?: string): string | null => {
  const c = ns ? el.getChild(name, ns) : el.getChild(name);
  const t = c?.text();
  return t ? t : null;
};

function children(b: Bookmark): Element[] {
  return [
    ...(b.nick ? [xml('nick', {}, b.nick)] : []),
    ...(b.password ? [xml('password', {}, b.password)] : []),
  ];
}

export function toPepItem(b: Bookmark): Element {
  const attrs = { xmlns: NS.bookmarks, autojoin: String(b.autojoin), ...(b.name ? { name: b.name } : {}) };
  return xml('item', { id: b.jid }, xml('conference', attrs, ...children(b)));
}

/** An item of the XEP-0402 node, or undefined for one that is not a bookmark. */
export function fromPepItem(item: Element): Bookmark | undefined {
  const c = item.getChild('conference', NS.bookmarks);
  const id = item.attrs.id as string | undefined;
  if (!c || !id) return undefined;
  return {
    jid: bareJid(id),
    name: (c.attrs.name as string | undefined) || null,
    autojoin: truthy(c.attrs.autojoin),
    nick: textOf(c, 'nick', NS.bookmarks) ?? textOf(c, 'nick'),
    password: textOf(c, 'password', NS.bookmarks) ?? textOf(c, 'password'),
  };
}

/** The conferences of a legacy storage document. */
export function fromStorage(storage: Element | undefined): Bookmark[] {
  return (storage?.getChildren('conference') ?? []).flatMap((c) =>
    c.attrs.jid
      ? [
          {
            jid: bareJid(String(c.attrs.jid)),
            name: (c.attrs.name as string | undefined) || null,
            autojoin: truthy(c.attrs.autojoin),
            nick: textOf(c, 'nick'),
            password: textOf(c, 'password'),
          },
        ]
      : [],
  );
}

/**
 * The storage document with `jid`'s conference replaced by `b` (or removed when `b` is undefined).
 * Everything else in it (URL bookmarks, other clients' extensions) is kept as it was.
 */
export function withConference(storage: Element | undefined, jid: string, b: Bookmark | undefined): Element {
  const kept = (storage?.children ?? []).filter(
    (c): c is Element =>
      typeof c !== 'string' &&
      !(c.name === 'conference' && c.attrs.jid && bareJid(String(c.attrs.jid)) === jid),
  );
  const attrs = { jid, autojoin: String(b?.autojoin ?? false), ...(b?.name ? { name: b.name } : {}) };
  const added = b ? [xml('conference', attrs, ...children(b))] : [];
  return xml('storage', { xmlns: NS.legacyBookmarks }, ...kept, ...added);
}
