/**
 * Issue 15 §5.5: a CMYK JPEG without an ICC profile (made by ImageMagick, the way print tools
 * write them) is read with its colours: a blue photo is blue, for the encoder and the thumbnail.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { makeThumbnail, preparePhoto } from '../../main/services/media/index.ts';
import type { PreprocessSpec } from '../../main/core/model-spec.ts';

const hasMagick = spawnSync('convert', ['-version']).status === 0;
const PLAIN: PreprocessSpec = { size: 16, resize: 'shortest', interpolation: 'bicubic', mean: [0, 0, 0], std: [1, 1, 1] } as PreprocessSpec;
const BLUE = [30, 60, 210];

describe.runIf(hasMagick)('CMYK JPEG without a profile', () => {
  it('decodes a blue photo as blue (encoder tensor and thumbnail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leanlens-cmyk-'));
    try {
      const file = join(dir, 'blue-cmyk.jpg');
      execFileSync('convert', ['-size', '64x48', `xc:rgb(${BLUE.join(',')})`, '-colorspace', 'CMYK', '-strip', '-quality', '95', file]);
      const meta = await sharp(file).metadata();
      expect([meta.space, meta.hasProfile]).toEqual(['cmyk', false]);

      const { pixels } = await preparePhoto(file, PLAIN);
      const area = 16 * 16;
      const rgb = [0, 1, 2].map((c) => Math.round(255 * pixels[c * area + 8 * 16 + 8]!));
      // Within 20 levels (ImageMagick's own conversion is not exactly the plain formula) of the colour before the CMYK conversion (libvips' press-profile fallback gave 45,64,127).
      rgb.forEach((v, c) => expect(Math.abs(v - BLUE[c]!), `channel ${c}: ${rgb}`).toBeLessThanOrEqual(20));

      const thumb = join(dir, 'thumb.jpg');
      await makeThumbnail(file, thumb, 32);
      const { data } = await sharp(thumb).raw().toBuffer({ resolveWithObject: true });
      [...data.subarray(0, 3)].forEach((v, c) => expect(Math.abs(v - BLUE[c]!), `thumbnail channel ${c}`).toBeLessThanOrEqual(20));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(hasMagick)('CMYK JPEG without a profile', () => {
  it.skip('needs ImageMagick (`convert`) to write a CMYK JPEG without a profile', () => undefined);
});
