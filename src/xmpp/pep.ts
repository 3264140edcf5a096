/**
 * XEP-0223 persistent PEP items: the publish-options form a publish carries so the server keeps every
 * item (its default keeps one) with the access model the data needs.
 *
 * ejabberd (23.01) refuses pubsub#max_items and pubsub#send_last_published_item among publish-options
 * (resource-constraint, naming the field) and takes them only as node configuration: publishPersistent then
 * configures the node (§8.2) and publishes without them — configuring first when the node exists, else right
 * after the publish that creates it, so no earlier item is evicted.
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

/**
 * The publish option a refusal names, when the server refuses one of ours as a publish option (ejabberd:
 * resource-constraint "Unknown field 'pubsub#send_last_published_item' of type '…#publish-options'", and
 * the same for max_items).
 */
function refusedOption(err: unknown, offered: readonly string[]): string | undefined {
  if (!(err instanceof BridgeError)) return undefined;
  const text = err.extra.xmppText ?? '';
  return offered.find((name) => text.includes(name));
}

async function configureNode(
  session: PepSession,
  node: string,
  fields: Record<string, string>,
  timeoutMs: number,
  what: string,
) {
  const form = xml(
    'x',
    { xmlns: NS.dataForms, type: 'submit' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS.pubsubNodeConfig)),
    ...Object.entries(fields).map(([k, v]) => field(k, v)),
  );
  await session.iq(
    xml('iq', { type: 'set' }, xml('pubsub', { xmlns: NS.pubsubOwner }, xml('configure', { node }, form))),
    timeoutMs,
    `${what} node configuration`,
  );
}

/**
 * Publishes `item` to the user's own PEP `node` with publish-options (access model, persistent, every item
 * kept, plus `extra`). Where the server refuses max_items or one of `extra` as a publish option (ejabberd), that
 * option becomes node configuration instead: set before the publish when the node exists, else right after
 * the publish that creates it, so no earlier item is evicted.
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
  const publish = (options: Record<string, string>, maxItems: boolean) =>
    session.iq(
      xml(
        'iq',
        { type: 'set' },
        xml(
          'pubsub',
          { xmlns: NS.pubsub },
          xml('publish', { node }, item),
          publishOptions(accessModel, options, { maxItems }),
        ),
      ),
      timeoutMs,
      what,
    );
  const options = { ...extra };
  const asConfig: Record<string, string> = {};
  let maxItems = true;
  let configured = false;
  for (;;) {
    try {
      await publish(options, maxItems);
      break;
    } catch (err) {
      const refused = refusedOption(err, [
        ...(maxItems ? ['pubsub#max_items'] : []),
        ...Object.keys(options),
      ]);
      if (!refused) throw err;
      if (refused === 'pubsub#max_items') {
        maxItems = false;
        asConfig[refused] = 'max';
      } else {
        asConfig[refused] = options[refused]!;
        delete options[refused];
      }
      configured = await configureNode(session, node, asConfig, timeoutMs, what).then(
        () => true,
        (e: unknown) => {
          if (e instanceof BridgeError && e.extra.xmppCondition === 'item-not-found') return false;
          throw e;
        },
      );
    }
  }
  if (Object.keys(asConfig).length > 0 && !configured)
    await configureNode(session, node, asConfig, timeoutMs, what);
}
