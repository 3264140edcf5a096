/**
 * Pure builders and parsers for XEP-0055 Jabber Search, in both of its forms: the legacy fixed fields
 * (first, last, nick, email) and the data-form form (XEP-0004) that ejabberd and Openfire use.
 * References: https://xmpp.org/extensions/xep-0055.html, https://xmpp.org/extensions/xep-0004.html
 */
import xml, { type Element } from '@xmpp/xml';
import { NS } from '../xmpp/ns.js';
import { normalizeJid } from '../xmpp/jid.js';

export interface DirectoryUser {
  username: string;
  jid: string;
  name: string | null;
  email: string | null;
}

/** Text fields a term goes into, best first: Openfire's `search`, ejabberd's `user`, then names. */
const TERM_FIELDS = ['search', 'user', 'username', 'nick', 'fn', 'first', 'email'];
const LEGACY_FIELDS = ['nick', 'first', 'last', 'email'];

export const buildSearchFieldsGet = (to: string): Element =>
  xml('iq', { type: 'get', to }, xml('query', { xmlns: NS.search }));

/** The search request for `term`, shaped after the fields the service offered; undefined if none fits. */
export function buildSearchSet(to: string, fields: Element, term: string): Element | undefined {
  const form = fields.getChild('x', NS.dataForms);
  if (form) {
    const submit = buildFormSubmit(form, term);
    return submit && xml('iq', { type: 'set', to }, xml('query', { xmlns: NS.search }, submit));
  }
  const legacy = LEGACY_FIELDS.find((f) => fields.getChild(f));
  return legacy
    ? xml('iq', { type: 'set', to }, xml('query', { xmlns: NS.search }, xml(legacy, {}, term)))
    : undefined;
}

function buildFormSubmit(form: Element, term: string): Element | undefined {
  const fields = form.getChildren('field');
  const textVars = fields
    .filter((f) => ['text-single', undefined].includes(f.attrs.type as string | undefined))
    .map((f) => String(f.attrs.var));
  const target = TERM_FIELDS.find((v) => textVars.some((t) => t.toLowerCase() === v)) ?? textVars[0];
  if (!target) return undefined;
  const out = xml('x', { xmlns: NS.dataForms, type: 'submit' });
  for (const f of fields) {
    const v = String(f.attrs.var ?? '');
    if (f.attrs.type === 'hidden')
      out.append(xml('field', { var: v }, xml('value', {}, f.getChildText('value') ?? '')));
    // Openfire's booleans pick which attributes the term is matched against: match all of them.
    else if (f.attrs.type === 'boolean') out.append(xml('field', { var: v }, xml('value', {}, '1')));
    else if (v.toLowerCase() === target.toLowerCase())
      out.append(xml('field', { var: v }, xml('value', {}, term)));
  }
  return out;
}

/** Users from a search result, legacy `<item jid>` or a data-form `type="result"`. */
export function parseSearchResult(query: Element | undefined, domain: string): DirectoryUser[] {
  if (!query) return [];
  const form = query.getChild('x', NS.dataForms);
  const rows = form
    ? form
        .getChildren('item')
        .map((item) =>
          Object.fromEntries(
            item
              .getChildren('field')
              .map((f) => [String(f.attrs.var).toLowerCase(), f.getChildText('value') ?? '']),
          ),
        )
    : query.getChildren('item').map(
        (item) =>
          ({
            jid: String(item.attrs.jid ?? ''),
            ...Object.fromEntries(item.getChildElements().map((c) => [c.name, c.text()])),
          }) as Record<string, string>,
      );
  return rows.flatMap((r) => toUser(r, domain));
}

function toUser(r: Record<string, string>, domain: string): DirectoryUser[] {
  const jid = normalizeJid(r.jid || (r.username ? `${r.username}@${domain}` : ''));
  if (!jid.includes('@')) return [];
  const name = r.fn || r.name || [r.first, r.last].filter(Boolean).join(' ') || r.nick || null;
  return [{ username: jid.split('@')[0]!, jid, name, email: r.email || null }];
}
