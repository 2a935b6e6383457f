/**
 * CMYK JPEGs (print workflows, some scanners and stock sites). Without an ICC profile libvips
 * falls back to a press profile, which turns a clear blue into a dull slate (30,60,210 became
 * 45,64,127 and the colour model called it purple). The models' reference pipeline (Pillow) and
 * browsers convert such files with the plain formula R = (255−C)(255−K)/255, which gives the
 * colours back as they were before the CMYK conversion; this does the same.
 */
import sharp, { type Sharp } from 'sharp';

/** Interleaved CMYK bytes to interleaved RGB bytes, Pillow's `cmyk2rgb`. */
export function cmykToRgb(cmyk: Uint8Array): Buffer {
  const pixels = cmyk.length / 4;
  const rgb = Buffer.allocUnsafe(pixels * 3);
  for (let i = 0, o = 0; i < cmyk.length; i += 4, o += 3) {
    const nk = 255 - cmyk[i + 3]!;
    rgb[o] = Math.round(((255 - cmyk[i]!) * nk) / 255);
    rgb[o + 1] = Math.round(((255 - cmyk[i + 1]!) * nk) / 255);
    rgb[o + 2] = Math.round(((255 - cmyk[i + 2]!) * nk) / 255);
  }
  return rgb;
}

/** An upright CMYK image (already opened, EXIF orientation applied) as an sRGB image by the plain formula. */
export async function uprightCmykAsRgb(upright: Sharp, limitInputPixels: number): Promise<{ source: Sharp; width: number; height: number }> {
  const { data, info } = await upright.toColourspace('cmyk').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 4) throw new Error(`a CMYK image decoded to ${info.channels} channels`);
  const source = sharp(cmykToRgb(data), { raw: { width: info.width, height: info.height, channels: 3 }, limitInputPixels });
  return { source, width: info.width, height: info.height };
}
