import sharp from 'sharp';

/**
 * Thumbnails for images (sharp / libvips): at most 320×320, WebP, EXIF orientation applied so phone
 * photos are upright. Decoding is capped (limitInputPixels) so a small "pixel bomb" cannot exhaust memory.
 */
export const THUMBNAIL_TYPE = 'image/webp';
const MAX_EDGE = 320;
const THUMBNAILABLE = new Set([
  'image/png',
  'image/jpeg',
  'image/webp',
  'image/gif',
  'image/avif',
  'image/tiff',
  'image/heic',
]);

export const canThumbnail = (type: string): boolean => THUMBNAILABLE.has(type);

/** Width × height from the image's header (nothing decoded); undefined when sharp cannot read it. */
export async function pixelsOf(path: string): Promise<{ width: number; height: number } | undefined> {
  try {
    const m = await sharp(path, { limitInputPixels: false }).metadata();
    return m.width && m.height ? { width: m.width, height: m.height } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decoding an image costs CPU and up to 4 bytes a pixel: at most `concurrency` thumbnails are made at
 * once, the others wait their turn (each waiting upload is an HTTP request, already bounded).
 */
export class Thumbnailer {
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  constructor(
    private readonly opts: {
      concurrency: number;
      maxPixels: number;
      /** how one thumbnail is made (tests count them) */
      make?: (path: string, maxPixels: number) => Promise<Buffer | undefined>;
    },
  ) {}

  async make(path: string): Promise<Buffer | undefined> {
    if (this.#running >= this.opts.concurrency) await new Promise<void>((r) => this.#waiting.push(r));
    else this.#running++;
    try {
      return await (this.opts.make ?? makeThumbnail)(path, this.opts.maxPixels);
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }

  get running(): number {
    return this.#running;
  }
}

/** The thumbnail's bytes, or undefined when the image cannot be decoded (the upload still succeeds). */
export async function makeThumbnail(path: string, maxPixels = 50_000_000): Promise<Buffer | undefined> {
  try {
    return await sharp(path, { limitInputPixels: maxPixels, animated: false })
      .rotate()
      .resize(MAX_EDGE, MAX_EDGE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 70 })
      .toBuffer();
  } catch {
    return undefined;
  }
}
