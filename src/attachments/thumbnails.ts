import sharp from 'sharp';

/**
 * Thumbnails for images (sharp / libvips): at most 320×320, WebP, EXIF orientation applied so phone
 * photos are upright. Decoding is capped (limitInputPixels) so a small "pixel bomb" cannot exhaust memory.
 */
export const THUMBNAIL_TYPE = 'image/webp';
const MAX_EDGE = 320;
const MAX_INPUT_PIXELS = 50_000_000;
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

/** The thumbnail's bytes, or undefined when the image cannot be decoded (the upload still succeeds). */
export async function makeThumbnail(path: string): Promise<Buffer | undefined> {
  try {
    return await sharp(path, { limitInputPixels: MAX_INPUT_PIXELS, animated: false })
      .rotate()
      .resize(MAX_EDGE, MAX_EDGE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 70 })
      .toBuffer();
  } catch {
    return undefined;
  }
}
