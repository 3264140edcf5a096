import { publicBase } from '../http/publicBase.js';
import type { Context } from 'koa';
import type { Feature, GatewayContext } from '../feature.js';
import { AttachmentService } from './AttachmentService.js';
import { AttachmentStore } from './AttachmentStore.js';
import { FileStore } from './FileStore.js';
import { fileRoutes } from './fileRoutes.js';
import { uploadRoutes } from './uploadRoutes.js';
import { Housekeeping } from './Housekeeping.js';
import { attachmentAdminRoutes } from './adminRoutes.js';
import { Compressor } from './Compressor.js';
import { Thumbnailer } from './thumbnails.js';
import { createUploadPolicy, type UploadPolicy } from './FileTransfer.js';

/**
 * Attachments: uploads (sniffed type, size and type limits), the file server with access control,
 * thumbnails, clean-up of old files and the operators' attachments-only view. Chat and rooms carry them in messages through ./forMessage.ts and ./oob.ts.
 * See docs/attachments.md.
 */
export type AttachmentsFeatureDeps = Pick<GatewayContext, 'config' | 'log' | 'db' | 'messages'> & {
  /** size and type limits that may change at run time (site sync); default from the config */
  uploadPolicy?: UploadPolicy;
};

export function createAttachmentsFeature(ctx: AttachmentsFeatureDeps): Feature {
  const log = ctx.log.child({ c: 'attachments' });
  const files = new FileStore(ctx.config.files.dir);
  // Read at each upload through the getters, so a limit changed at run time holds at once.
  const policy = ctx.uploadPolicy ?? createUploadPolicy(ctx.config.files);
  const store = new AttachmentStore(ctx.db, ctx.messages);
  const service = new AttachmentService({
    store,
    files,
    log,
    limits: {
      get maxUploadBytes() {
        return policy.maxUploadBytes;
      },
      get allowedTypes() {
        return policy.allowedTypes;
      },
      quotaBytes: ctx.config.limits.uploads.quotaBytes,
      maxImagePixels: ctx.config.limits.uploads.maxImagePixels,
    },
    domain: ctx.config.xmpp.domain,
    thumbnails: new Thumbnailer({
      concurrency: ctx.config.limits.uploads.thumbnailConcurrency,
      maxPixels: ctx.config.limits.uploads.maxImagePixels,
    }),
  });
  const housekeeping = new Housekeeping({ db: ctx.db, files, store, messages: ctx.messages });
  const compressor = new Compressor({ db: ctx.db, store, files, messages: ctx.messages });
  // File URLs go into messages that outlive this request: never from the request's Host (publicBase).
  const baseUrl = (c: Context): string => publicBase(c, ctx.config.http.publicUrl);
  return {
    name: 'attachments',
    routes: (router, access) => {
      uploadRoutes(router, access, { service, files, baseUrl });
      fileRoutes(router, access, {
        store,
        files,
        domain: ctx.config.xmpp.domain,
        capabilityUrls: ctx.config.files.capabilityUrls,
      });
      attachmentAdminRoutes(router, { messages: ctx.messages, housekeeping, compressor, store });
    },
    start: () => files.init(),
  };
}
