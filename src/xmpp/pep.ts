/**
 * XEP-0223 persistent PEP items: the publish-options form a publish carries so the server keeps every
 * item (its default keeps one) with the access model the data needs.
 *
 * ejabberd (23.01) refuses pubsub#max_items among publish-options (resource-constraint, naming the field)
 * and takes it only as node configuration: publishPersistent then configures the node (§8.2) and publishes
 * without it — configuring first when the node exists, else right after the publish that creates it, so no
 * earlier item is evicted.
 * References: XEP-0060 §7.1.5, §8.2, XEP-0223.
 */
import xml, { type Element } from '@xmpp/xml';
import { BridgeError } from '../errors/BridgeError.js';
import { NS } from './ns.js';

const field = (name: string, value: string): Element => xml('field', { var: name }, xml('value', {}, value));

export type AccessModel = 'open' | 'whitelist' | 'presence';

/** The publish-options form; `maxItems: false` leaves pubsub#max_items out (for servers that refuse it there). */
export function publishOptions(
  accessModel: AccessModel,
  extra: Record<string, string> = {},
  { maxItems = true }: { maxItems?: boolean } = {},
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
      ...(maxItems ? [field('pubsub#max_items', 'max')] : []),
      ...Object.entries(extra).map(([k, v]) => field(k, v)),
    ),
  );
}

/** What publishPersistent needs of a user's session. */
export interface PepSession {
  iq(stanza: Element, timeoutMs: number, what: string): Promise<Element>;
}

/** ejabberd's answer to max_items among publish-options. */
function refusesMaxItemsOption(err: unknown): boolean {
  return err instanceof BridgeError && /max_items/.test(err.extra.xmppText ?? '');
}

async function configureMaxItems(session: PepSession, node: string, timeoutMs: number, what: string) {
  const form = xml(
    'x',
    { xmlns: NS.dataForms, type: 'submit' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS.pubsubNodeConfig)),
    field('pubsub#max_items', 'max'),
  );
  await session.iq(
    xml('iq', { type: 'set' }, xml('pubsub', { xmlns: NS.pubsubOwner }, xml('configure', { node }, form))),
    timeoutMs,
    `${what} node configuration`,
  );
}

/**
 * Publishes `item` to the user's own PEP `node` with publish-options (access model, persistent, every item
 * kept, plus `extra`); falls back to node configuration for max_items where the server refuses it as an option.
 */
export async function publishPersistent(
  session: PepSession,
  node: string,
  item: Element,
  accessModel: AccessModel,
  {
    extra = {},
    timeoutMs = 10_000,
    what = 'pep publish',
  }: { extra?: Record<string, string>; timeoutMs?: number; what?: string } = {},
): Promise<void> {
  const publish = (maxItems: boolean) =>
    session.iq(
      xml(
        'iq',
        { type: 'set' },
        xml(
          'pubsub',
          { xmlns: NS.pubsub },
          xml('publish', { node }, item),
          publishOptions(accessModel, extra, { maxItems }),
        ),
      ),
      timeoutMs,
      what,
    );
  try {
    await publish(true);
  } catch (err) {
    if (!refusesMaxItemsOption(err)) throw err;
    const configured = await configureMaxItems(session, node, timeoutMs, what).then(
      () => true,
      (e: unknown) => {
        if (e instanceof BridgeError && e.extra.xmppCondition === 'item-not-found') return false;
        throw e;
      },
    );
    await publish(false);
    if (!configured) await configureMaxItems(session, node, timeoutMs, what);
  }
}
