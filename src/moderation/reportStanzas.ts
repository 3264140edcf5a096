/**
 * XEP-0377 spam reporting, carried in a XEP-0191 block command (pure builders, no I/O).
 * References:
 *   https://xmpp.org/extensions/xep-0377.html (urn:xmpp:reporting:1)
 *   https://xmpp.org/extensions/xep-0191.html
 *   https://xmpp.org/extensions/xep-0359.html (the reported messages' archive ids)
 * Prosody 0.12's mod_blocklist reads only each <item/>'s jid: it blocks and ignores the <report/>
 * child, and it does not advertise urn:xmpp:reporting:1. The report therefore always goes along (a
 * server that understands it acts on it) and Parley records whether the server advertised it.
 */
import xml, { type Element } from '@xmpp/xml';
import { NS } from '../xmpp/ns.js';

export type ReportReason = 'spam' | 'abuse' | 'other';

/** XEP-0377 knows spam and abuse; "other" is reported as abuse with the reporter's text. */
const REASON_URI: Record<ReportReason, string> = {
  spam: 'urn:xmpp:reporting:spam',
  abuse: 'urn:xmpp:reporting:abuse',
  other: 'urn:xmpp:reporting:abuse',
};

export interface ReportedStanza {
  archiveId: string;
  by: string;
}

export function blockWithReport(
  jid: string,
  reason: ReportReason,
  text: string | undefined,
  stanzas: ReportedStanza[],
): Element {
  const report = xml(
    'report',
    { xmlns: NS.reporting, reason: REASON_URI[reason] },
    ...stanzas.map((s) => xml('stanza-id', { xmlns: NS.sid, by: s.by, id: s.archiveId })),
    ...(text ? [xml('text', {}, text)] : []),
  );
  return xml('iq', { type: 'set' }, xml('block', { xmlns: NS.blocking }, xml('item', { jid }, report)));
}

/** True when a disco#info result lists the XEP-0377 feature. */
export function advertisesReporting(info: Element | undefined): boolean {
  return (info?.getChildren('feature') ?? []).some((f) => f.attrs.var === NS.reporting);
}
