import type { Attachment, ParleyApi, UploadedFile } from './api';

/** As many files as one message may name (the server's AttachmentIds.maxItems). */
export const MAX_FILES_PER_MESSAGE = 10;

export interface PendingUpload {
  key: string;
  name: string;
  size: number;
  /** 0…1 while uploading */
  progress: number;
  /** set once stored: its id goes with the next message */
  file?: UploadedFile;
  /** the server's reason (problem+json `detail`) when it refused the file */
  error?: string;
  abort: AbortController;
}

let seq = 0;

/**
 * Files picked in a composer (a dialogue's or a room's, by key). Each is uploaded at once, so sending is quick
 * and a refusal (too large, a type not accepted) shows before the message is written; the stored ones go
 * with the next message.
 */
export class Uploads {
  private byThread = new Map<string, PendingUpload[]>();

  constructor(
    private readonly api: Pick<ParleyApi, 'upload'>,
    private readonly changed: () => void,
  ) {}

  list(thread: string): readonly PendingUpload[] {
    return this.byThread.get(thread) ?? [];
  }
  uploading(thread: string): boolean {
    return this.list(thread).some((u) => !u.file && !u.error);
  }
  ready(thread: string): boolean {
    return this.list(thread).some((u) => u.file);
  }

  add(thread: string, files: readonly File[]): void {
    const list = [...this.list(thread)];
    for (const f of files) {
      const u: PendingUpload = {
        key: `up-${++seq}`,
        name: f.name || 'file',
        size: f.size,
        progress: 0,
        abort: new AbortController(),
      };
      list.push(u);
      if (list.filter((x) => !x.error).length > MAX_FILES_PER_MESSAGE) {
        u.error = `at most ${MAX_FILES_PER_MESSAGE} files per message`;
        continue;
      }
      this.api
        .upload(
          f,
          u.name,
          (p) => {
            u.progress = p;
            this.changed();
          },
          u.abort.signal,
        )
        .then(
          (stored) => {
            u.file = stored;
            u.progress = 1;
          },
          (err: unknown) => {
            u.error = (err as Error).message;
          },
        )
        .finally(() => this.changed());
    }
    this.byThread.set(thread, list);
    this.changed();
  }

  /** Drops a file from the composer (cancelling its upload); a stored one stays unused on the server. */
  remove(thread: string, key: string): void {
    const list = this.list(thread);
    list.find((u) => u.key === key)?.abort.abort();
    this.byThread.set(
      thread,
      list.filter((u) => u.key !== key),
    );
    this.changed();
  }

  /** The stored files, taken out of the composer to go with a message; refused ones stay until dismissed. */
  take(thread: string): UploadedFile[] {
    const list = this.list(thread);
    this.byThread.set(
      thread,
      list.filter((u) => !u.file),
    );
    return list.flatMap((u) => (u.file ? [u.file] : []));
  }
}

/** An upload answer as a message's attachment (what events and history carry). */
export const asAttachment = (f: UploadedFile): Attachment => ({
  url: f.url,
  name: f.name,
  size: f.size,
  type: f.type,
  ...(f.thumbnail ? { thumbnail: f.thumbnail } : {}),
});
