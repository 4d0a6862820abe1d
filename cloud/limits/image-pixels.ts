/**
 * The pixel limit of images the cloud decodes (`ANPR_MAX_IMAGE_PIXELS`, default 40 MP).
 * Checked from the image header alone (sharp reads the header, decodes nothing; its own limit
 * is off for that read so the answer names the size), so a small file that claims
 * 16000×16000 is refused before a 768 MB raster is ever allocated.
 */
import { AppError } from '../../shared/errors.js';

/** Throws 413 PAYLOAD_TOO_LARGE past `maxPixels`, 400 VALIDATION_ERROR when the header is unreadable. */
export async function assertPixelsWithin(image: Buffer, maxPixels: number, field = 'image'): Promise<{ width: number; height: number }> {
  const { default: sharp } = await import('sharp');
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(image, { limitInputPixels: false }).metadata());
  } catch (e) {
    throw new AppError('VALIDATION_ERROR', 'Validation error', { errors: [{ field, message: `${field}: cannot be decoded (${(e as Error).message.slice(0, 200)})` }] });
  }
  if (!width || !height) throw new AppError('VALIDATION_ERROR', 'Validation error', { errors: [{ field, message: `${field}: no image size in its header` }] });
  if (width * height > maxPixels) {
    const mp = (n: number) => `${Math.round(n / 1e5) / 10} MP`;
    throw new AppError('PAYLOAD_TOO_LARGE', `Image is ${width}×${height} (${mp(width * height)}); the limit is ${mp(maxPixels)} (ANPR_MAX_IMAGE_PIXELS)`, {
      extra: { max_pixels: maxPixels },
    });
  }
  return { width, height };
}
