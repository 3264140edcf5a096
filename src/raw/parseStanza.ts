/**
 * Raw stanza XML from a client → one checked Element (no I/O). @xmpp/xml's Parser is a stream
 * parser: it happily returns a half-closed element or swallows a second root, so this wraps it to
 * accept exactly one complete element and nothing but whitespace around it.
 * References: RFC 6120 §8 (stanza semantics), §4.9.3.1 (bad-format).
 */
import { Parser, type Element } from '@xmpp/xml';
import { BridgeError } from '../errors/BridgeError.js';
import { NS } from '../xmpp/ns.js';

export const RAW_KINDS = ['message', 'presence', 'iq'] as const;

class SingleElementParser extends Parser {
  done = false;
  problem: string | undefined;

  override onStartElement(name: string, attrs?: string | Record<string, string>): void {
    if (this.done) this.problem ??= 'more than one top-level element';
    else super.onStartElement(name, attrs);
  }

  override onEndElement(name: string): void {
    if (this.done) this.problem ??= `unexpected </${name.slice(0, 40)}>`;
    else super.onEndElement(name);
  }

  override onText(str: string): void {
    if (!this.cursor || this.done) {
      if (str.trim()) this.problem ??= 'text outside the stanza element';
      return;
    }
    super.onText(str);
  }
}

export function parseXml(text: string): Element {
  const p = new SingleElementParser();
  let root: Element | undefined;
  p.on('start', (el: Element) => {
    root = el;
  });
  p.on('element', (el: Element) => {
    root?.append(el);
  });
  p.on('end', () => {
    p.done = true;
  });
  p.on('error', (err: Error) => {
    p.problem ??= err.message;
  });
  try {
    p.write(text);
    // The tokenizer holds text back until the next '<': an empty comment flushes trailing text to onText.
    p.end('<!---->');
  } catch (err) {
    p.problem ??= (err as Error).message;
  }
  if (p.problem) throw new BridgeError('INVALID_STANZA', `malformed XML: ${p.problem}`);
  if (!root || !p.done)
    throw new BridgeError('INVALID_STANZA', 'malformed XML: the stanza element is incomplete');
  return root;
}

/** One message, presence or iq in the client namespace; anything else is a 400 INVALID_STANZA. */
export function parseStanza(text: string): Element {
  const el = parseXml(text);
  if (!(RAW_KINDS as readonly string[]).includes(el.name)) {
    throw new BridgeError(
      'INVALID_STANZA',
      `only ${RAW_KINDS.join(', ')} stanzas can be sent, not <${el.name.slice(0, 40)}>`,
    );
  }
  const xmlns = el.attrs.xmlns as string | undefined;
  if (xmlns !== undefined && xmlns !== NS.client)
    throw new BridgeError('INVALID_STANZA', `a stanza's namespace must be ${NS.client}`);
  if (el.name === 'iq') {
    const type = el.attrs.type as string | undefined;
    if (!type || !['get', 'set', 'result', 'error'].includes(type))
      throw new BridgeError('INVALID_STANZA', 'an iq needs type get, set, result or error');
    if ((type === 'get' || type === 'set') && el.getChildElements().length !== 1) {
      throw new BridgeError(
        'INVALID_STANZA',
        'an iq get or set carries exactly one child element (RFC 6120 §8.2.3)',
      );
    }
  }
  return el;
}
