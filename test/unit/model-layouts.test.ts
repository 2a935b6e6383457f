// Reading the processing out of Immich (open_clip) and Hugging Face config files: the formats'
// variants and what LeanLens refuses rather than guesses.
import { describe, expect, it } from 'vitest';
import { huggingFaceName, padIdFrom, preprocessFromHuggingFace, preprocessFromOpenClip } from '../../main/services/models/layouts.ts';

const MEAN = [0.48145466, 0.4578275, 0.40821073];
const STD = [0.26862954, 0.26130258, 0.27577711];

describe('open_clip preprocess_cfg.json (Immich)', () => {
  it('reads size, interpolation, resize mode, mean and std; older configs default to shortest', () => {
    expect(preprocessFromOpenClip({ size: [224, 224], mean: MEAN, std: STD, interpolation: 'bicubic', resize_mode: 'shortest' }, 'p')).toEqual({
      size: 224, resize: 'shortest', interpolation: 'bicubic', mean: MEAN, std: STD,
    });
    // SigLIP's config (Immich ViT-B-16-SigLIP__webli): squash, mean/std 0.5.
    expect(preprocessFromOpenClip({ size: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], interpolation: 'bicubic', resize_mode: 'squash' }, 'p')).toMatchObject({ resize: 'squash', mean: [0.5, 0.5, 0.5] });
    expect(preprocessFromOpenClip({ size: 336, mean: MEAN, std: STD }, 'p')).toMatchObject({ size: 336, resize: 'shortest', interpolation: 'bicubic' });
  });

  it('refuses what it cannot feed, naming the file', () => {
    expect(() => preprocessFromOpenClip({ size: 224, mean: MEAN, std: STD, resize_mode: 'longest' }, 'x/preprocess_cfg.json')).toThrow(/x\/preprocess_cfg\.json: resize_mode "longest" is not supported/);
    expect(() => preprocessFromOpenClip({ size: [224, 256], mean: MEAN, std: STD }, 'p')).toThrow(/not a square/);
    expect(() => preprocessFromOpenClip({ size: 224, mean: [1, 2], std: STD }, 'p')).toThrow(/mean should be three numbers/);
  });
});

describe('Hugging Face preprocessor_config.json', () => {
  it('reads the new format (size.shortest_edge, crop_size object) and the old one (ints)', () => {
    const base = { do_center_crop: true, do_normalize: true, image_mean: MEAN, image_std: STD, resample: 3 };
    const want = { size: 224, resize: 'shortest', interpolation: 'bicubic', mean: MEAN, std: STD };
    expect(preprocessFromHuggingFace({ ...base, size: { shortest_edge: 224 }, crop_size: { height: 224, width: 224 } }, 'p')).toEqual(want);
    expect(preprocessFromHuggingFace({ ...base, size: 224, crop_size: 224 }, 'p')).toEqual(want);
  });

  it('maps resample 2 to bilinear, height/width to squash, and do_normalize false to no mean/std', () => {
    expect(preprocessFromHuggingFace({ size: { height: 256, width: 256 }, do_center_crop: false, resample: 2, do_normalize: false }, 'p')).toEqual({
      size: 256, resize: 'squash', interpolation: 'bilinear', mean: null, std: null,
    });
  });

  it('refuses a crop smaller than the resize and unknown resampling', () => {
    const base = { image_mean: MEAN, image_std: STD };
    expect(() => preprocessFromHuggingFace({ ...base, size: { shortest_edge: 256 }, crop_size: { height: 224, width: 224 } }, 'p')).toThrow(/resizing to 256 and cropping to 224×224 is not supported/);
    expect(() => preprocessFromHuggingFace({ ...base, size: 224, resample: 1 }, 'p')).toThrow(/resample 1 is not supported/);
  });
});

describe('pad token', () => {
  it('resolves a string or AddedToken pad_token via tokenizer.json, then CLIP specials', () => {
    const tokenizer = { added_tokens: [{ id: 49407, content: '<|endoftext|>' }], model: { vocab: { '</s>': 1, '!': 0 } } };
    expect(padIdFrom({ tokenizerConfig: { pad_token: '<|endoftext|>' }, tokenizer }, 'p')).toBe(49407);
    expect(padIdFrom({ tokenizerConfig: { pad_token: { __type: 'AddedToken', content: '</s>' } }, tokenizer }, 'p')).toBe(1);
    expect(padIdFrom({ tokenizerConfig: {}, specialTokens: { pad_token: '!' } }, 'p')).toBe(0);
    expect(padIdFrom({ tokenizerConfig: { pad_token: '<|endoftext|>' } }, 'p')).toBe(49407);
    expect(padIdFrom({ tokenizerConfig: {} }, 'p')).toBeUndefined();
    expect(() => padIdFrom({ tokenizerConfig: { pad_token: '<pad>' } }, 'x/tokenizer_config.json')).toThrow(/x\/tokenizer_config\.json: pad_token "<pad>"/);
  });
});

describe('huggingFaceName', () => {
  it('names a hub-cache snapshot by its repository, other folders by themselves', () => {
    expect(huggingFaceName('/c/hub/models--Xenova--clip-vit-base-patch32/snapshots/d15189d7028b43f1d3e65039190477f6af591c2a')).toBe('Xenova/clip-vit-base-patch32');
    expect(huggingFaceName('/home/me/clip-vit-base-patch32')).toBe('clip-vit-base-patch32');
  });
});
