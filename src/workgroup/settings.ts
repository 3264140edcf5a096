import { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';
import { parseJid } from '../xmpp/jid.js';

/**
 * A workgroup and its routing settings. Defaults are Openfire Fastpath's (reference §4): offers time out
 * after 20 s, requests after 4 min, an agent takes up to 4 chats, and an agent who rejected a request is
 * not offered it again for 20 s. Every one is per workgroup, so a test can run with 1–2 s timers.
 */
export interface WorkgroupSettings {
  offerTimeoutMs: number;
  requestTimeoutMs: number;
  maxChats: number;
  rejectionMemoryMs: number;
  welcomeText?: string;
  closingText?: string;
}

export interface Workgroup extends WorkgroupSettings {
  name: string;
  description?: string;
  /** bare JIDs of the agents allowed to go on duty */
  members: string[];
}

export const DEFAULT_SETTINGS: WorkgroupSettings = {
  offerTimeoutMs: 20_000,
  requestTimeoutMs: 240_000,
  maxChats: 4,
  rejectionMemoryMs: 20_000,
};

/** A workgroup name is the localpart of `<name>@workgroup.<domain>`, kept lower case. */
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function parseWorkgroupName(raw: string): string {
  const name = raw.trim().toLowerCase();
  // `visitor-…` addresses of the workgroup domain are REST visitors' room occupants (ChatRooms).
  if (!NAME.test(name) || name.startsWith('visitor-')) {
    throw new BridgeError(
      'VALIDATION_FAILED',
      `"${raw.slice(0, 80)}" is not a workgroup name (1–64 of a-z 0-9 . _ -, starting with a letter or digit, not visitor-…)`,
      { errors: [{ path: 'workgroup', message: 'invalid workgroup name' }] },
    );
  }
  return name;
}

/** The workgroup part of a short name or a `name@workgroup.<domain>` JID. */
export function workgroupFromJidOrName(raw: string, serviceDomain: string): string {
  const at = raw.indexOf('@');
  if (at < 0) return parseWorkgroupName(raw);
  if (raw.slice(at + 1).toLowerCase() !== serviceDomain)
    throw new BridgeError('NOT_FOUND', `${raw.slice(0, 120)} is not a workgroup of ${serviceDomain}`);
  return parseWorkgroupName(raw.slice(0, at));
}

const seconds = (min: number, max: number) => z.number().min(min).max(max);
const text = z.string().max(2000);

/** Settings in the API are seconds (fractions allowed) and texts. */
export const SettingsInput = z.object({
  offerTimeout: seconds(0.5, 3600).optional(),
  requestTimeout: seconds(1, 86_400).optional(),
  maxChats: z.number().int().min(1).max(100).optional(),
  rejectionTimeout: seconds(0, 3600).optional(),
  welcomeText: text.nullable().optional(),
  closingText: text.nullable().optional(),
});

/** ofchat's members: a comma- or space-separated string of usernames; Parley also takes an array. */
export const MembersInput = z.union([z.string().max(20_000), z.array(z.string().min(1).max(3071)).max(1000)]);

export const CreateWorkgroupInput = SettingsInput.extend({
  name: z.string().min(1).max(64),
  description: z.string().max(1000).optional(),
  members: MembersInput.optional(),
}).strict();

export const UpdateWorkgroupInput = SettingsInput.extend({
  description: z.string().max(1000).nullable().optional(),
  members: MembersInput.optional(),
}).strict();

export type SettingsPatch = Partial<WorkgroupSettings> & { description?: string | null };

export function settingsFrom(input: z.infer<typeof SettingsInput>): Partial<WorkgroupSettings> {
  const ms = (s: number | undefined) => (s === undefined ? undefined : Math.round(s * 1000));
  const out: Partial<WorkgroupSettings> = {
    offerTimeoutMs: ms(input.offerTimeout),
    requestTimeoutMs: ms(input.requestTimeout),
    maxChats: input.maxChats,
    rejectionMemoryMs: ms(input.rejectionTimeout),
    welcomeText: input.welcomeText === null ? '' : input.welcomeText,
    closingText: input.closingText === null ? '' : input.closingText,
  };
  return Object.fromEntries(
    Object.entries(out).filter(([, v]) => v !== undefined),
  ) as Partial<WorkgroupSettings>;
}

/** Usernames become `<name>@<domain>`; full JIDs are kept bare. Duplicates collapse. */
export function parseMembers(raw: string | string[], domain: string): string[] {
  const items = Array.isArray(raw) ? raw : raw.split(/[\s,]+/);
  return [
    ...new Set(
      items
        .map((s) => s.trim())
        .filter(Boolean)
        .map((m) => parseJid(m, domain, 'member').bare),
    ),
  ].sort();
}

/** The API view of a workgroup (seconds, the JID) without live state. */
export function workgroupView(w: Workgroup, serviceDomain: string) {
  return {
    name: w.name,
    jid: `${w.name}@${serviceDomain}`,
    description: w.description ?? null,
    members: w.members,
    settings: {
      offerTimeout: w.offerTimeoutMs / 1000,
      requestTimeout: w.requestTimeoutMs / 1000,
      maxChats: w.maxChats,
      rejectionTimeout: w.rejectionMemoryMs / 1000,
      welcomeText: w.welcomeText || null,
      closingText: w.closingText || null,
    },
  };
}
