// The attachments feature's public entry: its factory, and how chat and rooms carry files in messages.
export { createAttachmentsFeature, type AttachmentsFeatureDeps } from './createAttachmentsFeature.js';
export { oobElements, readAttachments, attachmentsField, type Attachment } from './oob.js';
export {
  attachmentIdsOf,
  createMessageFiles,
  withAttachmentData,
  bodyForFiles,
  chatMessageWithFiles,
  type MessageFiles,
} from './forMessage.js';
export {
  createFileTransfer,
  createUploadPolicy,
  type FileTransfer,
  type LocalFile,
  type UploadPolicy,
} from './FileTransfer.js';
