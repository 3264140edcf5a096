/**
 * What travels between a site and its host (JSON; docs/site-sync.md and openapi/openapi.yaml describe it).
 * Validated with zod at the receiving edge: the other side is trusted to be itself (signature), not to be bug-free.
 */
import { z } from 'zod';

const BareJid = z
  .string()
  .max(3071)
  .regex(/^[^@/\s]+@[a-z0-9.-]+$/i, 'a bare JID');

/** A file in a message: `ref` is its id where the message comes from (fetch or upload it by that id). */
export const SyncFile = z.object({
  ref: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
  /** the URL the message carried there, replaced by the local one in the body */
  url: z.string().max(4096),
  name: z.string().max(255),
  type: z.string().max(255),
  size: z.number().int().min(0).nullable(),
});
export type SyncFile = z.infer<typeof SyncFile>;

/** One chat message; `id` is stable from the moment it was written, on both deployments. */
export const SyncMessage = z.object({
  id: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII'),
  from: BareJid,
  to: BareJid,
  body: z.string().max(1_000_000),
  data: z.unknown().optional(),
  sentAt: z.string().datetime({ offset: true }),
  /** files not held as bytes by the sender (a URL on the XMPP server's upload service) are only links */
  links: z.array(z.string().max(4096)).max(10).default([]),
  files: z.array(SyncFile).max(10).default([]),
});
export type SyncMessage = z.infer<typeof SyncMessage>;

export const PushBody = z.object({ messages: z.array(SyncMessage).max(100) }).strict();

export interface PushAnswer {
  /** stored (or already stored before): the site may forget them */
  accepted: string[];
  /** not stored, send again later (a file it names has not arrived) */
  retry: string[];
  /** never deliverable (unknown recipient domain, a sender outside the calling site): dropped */
  refused: { id: string; reason: string }[];
}

export interface PullAnswer {
  messages: { seq: number; message: SyncMessage }[];
  settingsVersion: number;
}

/**
 * What a host pushes to its sites. A concrete, small set a central operator actually sets for every box:
 * the upload limits (size and media types: offline boxes often have little disk) and how often sites call.
 */
export const SyncSettings = z
  .object({
    uploads: z
      .object({
        maxBytes: z.number().int().min(1).optional(),
        allowedTypes: z
          .array(z.string().regex(/^[\w.+*-]+\/[\w.+*-]+$/, 'a media type like image/* or application/pdf'))
          .min(1)
          .optional(),
      })
      .strict()
      .optional(),
    intervalSeconds: z.number().min(0.1).max(86_400).optional(),
  })
  .strict();
export type SyncSettings = z.infer<typeof SyncSettings>;

export interface VersionedSettings {
  version: number;
  settings: SyncSettings;
}
