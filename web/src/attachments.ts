import type { Attachment, ParleyApi } from './api';

/**
 * Files in messages as the client shows them. /files answers only with credentials and takes no token in the
 * URL, so every file of this gateway is fetched with the session token: previews become data: URLs (the page's
 * Content-Security-Policy allows `img-src 'self' data:`, not blob:), full files blob: URLs opened or saved on a
 * click. URLs of other hosts (a native client's XEP-0363 upload) never get the token: they stay plain links.
 */

/**
 * Raster images: shown inline and opened in a tab. Nothing else is opened from a blob, because a blob
 * document runs with this page's origin and an SVG or HTML file could script it; those are downloaded.
 */
const VIEWABLE = /^image\/(png|jpeg|gif|webp|avif)$/;
/** An image without a server thumbnail (not made, or another host's) is previewed from the file up to this size. */
const PREVIEW_MAX_BYTES = 2 * 1024 * 1024;
/** Previews kept in memory; the oldest go first. Thumbnails are small (at most 320×320 WebP). */
const PREVIEW_CACHE = 200;

/** The files of an event or history item: `attachments`, or the sender's `data.attachments` (room history). */
export function attachmentsOf(item: { attachments?: unknown; data?: unknown }): Attachment[] {
  const list = Array.isArray(item.attachments)
    ? item.attachments
    : (item.data as { attachments?: unknown } | null | undefined)?.attachments;
  if (!Array.isArray(list)) return [];
  return list.flatMap((a: Partial<Attachment> | null) =>
    a && typeof a.url === 'string' && typeof a.name === 'string' && typeof a.type === 'string'
      ? [
          {
            url: a.url,
            name: a.name,
            size: typeof a.size === 'number' ? a.size : null,
            type: a.type,
            ...(typeof a.thumbnail === 'string' ? { thumbnail: a.thumbnail } : {}),
            ...(a.removed === true ? { removed: true as const } : {}),
          },
        ]
      : [],
  );
}

/** The text to show: a message that is only its files has their URLs as body (for native clients): hide them. */
export function visibleText(body: string, attachments: readonly Attachment[]): string {
  if (!attachments.length) return body;
  const urls = new Set(attachments.map((a) => a.url));
  return body.split(/\s+/).every((word) => !word || urls.has(word)) ? '' : body;
}

export const isViewableImage = (a: Attachment): boolean => VIEWABLE.test(a.type) && !a.removed;

/** What to show inline for an image: the server's thumbnail, else a small enough original. */
export function previewUrl(a: Attachment): string | undefined {
  if (!isViewableImage(a)) return undefined;
  if (a.thumbnail) return a.thumbnail;
  return a.size !== null && a.size <= PREVIEW_MAX_BYTES ? a.url : undefined;
}

/** One line for the dialogue list: the text, else what was sent. */
export function summary(body: string, attachments: readonly Attachment[]): string {
  if (body || !attachments.length) return body;
  const names = attachments.map((a) => a.name).join(', ');
  return attachments.every(isViewableImage) ? `Photo: ${names}` : `File: ${names}`;
}

export function formatSize(bytes: number | null): string {
  if (bytes === null) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const dataUrl = (blob: Blob): Promise<string> =>
  new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the file'));
    reader.readAsDataURL(blob);
  });

/** Fetches this gateway's files with the session token, once per URL. */
export class FileLoader {
  private previews = new Map<string, Promise<string>>();
  private objects = new Map<string, Promise<string>>();

  constructor(private readonly api: Pick<ParleyApi, 'fetchFile' | 'ownsUrl'>) {}

  /** Whether the file can be fetched here (this gateway's), or is only a link to another host. */
  owns(url: string): boolean {
    return this.api.ownsUrl(url);
  }

  /** A data: URL for an <img>. A failure is forgotten, so the next showing of the message tries again. */
  preview(url: string): Promise<string> {
    let p = this.previews.get(url);
    if (!p) {
      p = this.api.fetchFile(url).then(dataUrl);
      p.catch(() => this.previews.delete(url));
      this.previews.set(url, p);
      if (this.previews.size > PREVIEW_CACHE) this.previews.delete(this.previews.keys().next().value!);
    }
    return p;
  }

  /** A blob: URL of the whole file, typed as the server detected it (kept for the page's lifetime: opened by hand). */
  private object(a: Attachment): Promise<string> {
    let p = this.objects.get(a.url);
    if (!p) {
      p = this.api.fetchFile(a.url).then((b) => URL.createObjectURL(new Blob([b], { type: a.type })));
      p.catch(() => this.objects.delete(a.url));
      this.objects.set(a.url, p);
    }
    return p;
  }

  /** A blob: URL to play an audio or video file inline (MediaPlayer). */
  media(a: Attachment): Promise<string> {
    return this.object(a);
  }

  /**
   * Opens a raster image in a new tab, or saves any other file. Call it from the click itself: the tab is
   * opened at once (later, a popup blocker would stop it) and shown the file when it has arrived.
   */
  open(a: Attachment): Promise<void> {
    const tab = isViewableImage(a) ? window.open('', '_blank') : null;
    if (tab) {
      tab.opener = null;
      tab.document.title = a.name;
    }
    return this.object(a).then(
      (url) => {
        if (tab) {
          tab.location.href = url;
          return;
        }
        const link = document.createElement('a');
        link.href = url;
        link.download = a.name;
        document.body.append(link);
        link.click();
        link.remove();
      },
      (err: unknown) => {
        tab?.close();
        throw err;
      },
    );
  }
}
