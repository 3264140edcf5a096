/**
 * XEP-0223 persistent PEP items: the publish-options form a publish carries so the server keeps every
 * item (its default keeps one) with the access model the data needs.
 * References: XEP-0060 §7.1.5, XEP-0223.
 */
import xml, { type Element } from '@xmpp/xml';
import { NS } from './ns.js';

const field = (name: string, value: string): Element => xml('field', { var: name }, xml('value', {}, value));

export function publishOptions(
  accessModel: 'open' | 'whitelist' | 'presence',
  extra: Record<string, string> = {},
) {
  return xml(
    'publish-options',
    {},
    xml(
      'x',
      { xmlns: NS.dataForms, type: 'submit' },
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS.pubsubPublishOptions)),
      field('pubsub#access_model', accessModel),
      field('pubsub#persist_items', 'true'),
      field('pubsub#max_items', 'max'),
      ...Object.entries(extra).map(([k, v]) => field(k, v)),
    ),
  );
}
