/**
 * Organisation presence: the shapes the admin API takes and answers, and what `chatapi.group` events carry.
 * An organisation (a group) has sites; each member carries the profile fields an administrator's screen
 * shows (name, avatar, site) and a role.
 */
import { z } from 'zod';

/** Group and site ids appear in URLs and XMPP roster groups: a conservative alphabet. */
export const SLUG = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const slug = z
  .string()
  .regex(SLUG, 'lowercase letters, digits and . _ - (1–64, starting with a letter or digit)');

export const ROLES = ['member', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const SiteInput = z.object({ id: slug, name: z.string().min(1).max(200) }).strict();
export const GroupInput = z
  .object({
    name: z.string().min(1).max(200),
    sites: z.array(SiteInput).max(500).default([]),
  })
  .strict();
export type GroupInput = z.infer<typeof GroupInput>;

/** Profile fields of a member; absent fields are cleared (PUT replaces). */
export const MemberFields = z
  .object({
    name: z.string().min(1).max(200).nullable().optional(),
    avatar: z.string().url().max(2048).nullable().optional(),
    site: slug.nullable().optional(),
    role: z.enum(ROLES).default('member'),
  })
  .strict();
export type MemberFields = z.infer<typeof MemberFields>;
export const MemberListInput = z
  .object({
    members: z.array(MemberFields.extend({ username: z.string().min(1).max(64) }).strict()).max(5000),
  })
  .strict();

export interface Site {
  id: string;
  name: string;
}
export interface Group {
  id: string;
  name: string;
  sites: Site[];
  memberCount: number;
}
export interface Member {
  username: string;
  name: string | null;
  avatar: string | null;
  site: string | null;
  role: Role;
}

export type Show = 'available' | 'away' | 'chat' | 'dnd' | 'xa' | 'offline';
/** What the server last told Parley about a member's presence (its best resource). */
export interface MemberPresence {
  online: boolean;
  show: Show;
  status: string | null;
}
/** A member as the API lists it and `chatapi.group` events carry it. */
export type MemberView = Member & { jid: string } & MemberPresence;

export const GROUP_EVENT_TYPES = ['online', 'offline', 'changed', 'joined', 'left', 'snapshot'] as const;
export type GroupEventType = (typeof GROUP_EVENT_TYPES)[number];
