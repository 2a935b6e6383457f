// The rules that match a graph's own signature to its manifest entry (services/encoder/signature.ts)
// and fit token rows to a model (core/tokenizer.ts fitTokenRows). Pure: no ONNX Runtime here;
// test/integration/encoder-signature.test.ts runs the same rules on real generated graphs.
import { describe, expect, it } from 'vitest';
import { planTower, SignatureMismatch, statedIo, type GraphSignature, type GraphValue, type StatedSignature } from '../../main/services/encoder/signature.ts';
import { CLIP_IO } from '../../main/core/model-spec.ts';
import { fitTokenRows } from '../../main/core/tokenizer.ts';
import { restartDelay } from '../../main/services/encoder/index.ts';

const v = (name: string, type: string, shape: (number | string)[] | null): GraphValue => ({ name, type, shape });
const clipImage: GraphSignature = { inputs: [v('pixel_values', 'float32', ['N', 3, 224, 224])], outputs: [v('image_embeds', 'float32', ['N', 64])] };
const clipText: GraphSignature = { inputs: [v('input_ids', 'int64', ['N', 77])], outputs: [v('text_embeds', 'float32', ['N', 64])] };
const spec = (stated: StatedSignature['stated'] = {}): StatedSignature => ({ stated, dim: 64, imageSize: 224, contextLength: 77 });
const fail = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SignatureMismatch);
    return (err as SignatureMismatch).problems;
  }
  throw new Error('expected a SignatureMismatch');
};

describe('planTower', () => {
  it('the CLIP export with nothing stated: default names, dynamic batch, int64 ids, no mask', () => {
    expect(planTower('image', clipImage, spec(), 'x')).toEqual({
      tower: 'image', input: 'pixel_values', inputType: 'float32', mask: null, maskType: null, output: 'image_embeds', outputType: 'float32', batch: null,
    });
    expect(planTower('text', clipText, spec(), 'x')).toMatchObject({ input: 'input_ids', inputType: 'int64', mask: null, batch: null });
  });

  it('unstated names, id type, mask and batch are taken from the graph (the one candidate)', () => {
    const graph: GraphSignature = {
      inputs: [v('ids', 'int32', [1, 77]), v('attn_mask', 'int32', [1, 77])],
      // A rank-3 hidden state is not a candidate for the vectors.
      outputs: [v('hidden', 'float32', [1, 77, 64]), v('sentence_embedding', 'float32', [1, 64])],
    };
    expect(planTower('text', graph, spec(), 'x')).toEqual({
      tower: 'text', input: 'ids', inputType: 'int32', mask: 'attn_mask', maskType: 'int32', output: 'sentence_embedding', outputType: 'float32', batch: 1,
    });
  });

  it('among several float outputs, the one named like an embedding is taken; without one it is an error', () => {
    const two = (a: string, b: string): GraphSignature => ({ inputs: clipImage.inputs, outputs: [v(a, 'float32', ['N', 64]), v(b, 'float32', ['N', 64])] });
    expect(planTower('image', two('pooled', 'image_embeddings'), spec(), 'x').output).toBe('image_embeddings');
    expect(fail(() => planTower('image', two('a', 'b'), spec(), 'x'))).toEqual([
      'image output: not stated, and the graph has several candidates (a float32 [N,64]; b float32 [N,64]); state the name in "io"',
    ]);
  });

  it('a stated name must exist; stated "no mask" against a graph with one; an input the app cannot feed', () => {
    const graph: GraphSignature = { inputs: [v('input_ids', 'int64', ['N', 77]), v('attention_mask', 'int64', ['N', 77]), v('position_ids', 'int64', ['N', 77])], outputs: clipText.outputs };
    const problems = fail(() => planTower('text', graph, spec({ textMask: null, textOutput: 'pooler_output' }), 'x'));
    expect(problems).toContain('text output: expected "pooler_output" (stated), found text_embeds float32 [N,64]');
    expect(problems).toContain('text mask: expected none (io.textMask is null), found attention_mask int64 [N,77]');
    expect(problems.some((p) => p.startsWith('text inputs: the app feeds input_ids, but the graph also needs attention_mask int64 [N,77]; position_ids'))).toBe(true);
  });

  it('stated fixed batch against a dynamic graph, and the reverse', () => {
    expect(fail(() => planTower('text', clipText, spec({ textBatch: 1 }), 'x'))).toEqual([
      'text input batch: expected 1 (io.textBatch), found dynamic in input_ids int64 [N,77]',
    ]);
    const fixed: GraphSignature = { inputs: [v('pixel_values', 'float32', [1, 3, 224, 224])], outputs: clipImage.outputs };
    expect(planTower('image', fixed, spec({ imageBatch: 1 }), 'x').batch).toBe(1);
    expect(fail(() => planTower('image', fixed, spec({ imageBatch: null }), 'x'))).toHaveLength(1);
  });

  it('pixel input that is not float32, or not 3 channels', () => {
    const graph: GraphSignature = { inputs: [v('pixel_values', 'float16', ['N', 1, 224, 224])], outputs: clipImage.outputs };
    expect(fail(() => planTower('image', graph, spec(), 'x'))).toEqual([
      'image input: expected float32 pixels, found pixel_values float16 [N,1,224,224]',
      'image input: expected 3 colour channels, found 1 in pixel_values float16 [N,1,224,224]',
    ]);
  });

  it('without metadata the entry is trusted', () => {
    const graph: GraphSignature = { inputs: [v('input_ids', 'unknown', null)], outputs: [v('text_embeds', 'unknown', null)] };
    expect(planTower('text', graph, spec({ textIds: 'int32', textBatch: 1 }), 'x')).toMatchObject({ inputType: 'int32', batch: 1 });
  });

  it('the message names the model and lists every problem', () => {
    try {
      planTower('text', { inputs: [v('input_ids', 'int32', ['N', 64])], outputs: [v('text_embeds', 'float32', ['N', 32])] }, spec({ textIds: 'int64' }), 'The text encoder of model "m" (/f.onnx)');
      throw new Error('no error');
    } catch (err) {
      expect((err as Error).message).toBe(
        'The text encoder of model "m" (/f.onnx) does not match its manifest entry:\n' +
          '  - text ids: expected int64 (io.textIds), found input_ids int32 [N,64]\n' +
          '  - text input: expected 77 tokens per row (tokens.contextLength), found 64 in input_ids int32 [N,64]\n' +
          '  - text output: expected 64-d vectors (dim), found 32-d in text_embeds float32 [N,32]\n' +
          'Fix the model\'s "io"/"preprocess"/"tokens"/"dim" in the manifest, or re-import the model.',
      );
    }
  });
});

describe('statedIo', () => {
  it('keeps what the entry states and what a caller changed from the defaults, nothing else', () => {
    expect(statedIo({ ...CLIP_IO }, undefined)).toEqual({});
    expect(statedIo({ ...CLIP_IO, textMask: null }, { textMask: null })).toEqual({ textMask: null });
    expect(statedIo({ ...CLIP_IO, imageInput: 'pixels' }, {})).toEqual({ imageInput: 'pixels' });
  });
});

describe('fitTokenRows', () => {
  it('pads with the pad id and counts real tokens up to the first end token, even when the pad id is the end token', () => {
    const { ids, lengths } = fitTokenRows([[49406, 320, 49407, 0, 0, 0], [49406, 49407]], { contextLength: 6, padId: 49407 });
    expect(Array.from(ids)).toEqual([49406, 320, 49407, 49407, 49407, 49407, 49406, 49407, 49407, 49407, 49407, 49407]);
    expect(Array.from(lengths)).toEqual([3, 2]);
  });

  it('cuts an over-long row keeping the end token last; a row without an end token is all real', () => {
    const { ids, lengths } = fitTokenRows([[49406, 1, 2, 3, 4, 49407], [5, 6]], { contextLength: 4, padId: 0 });
    expect(Array.from(ids)).toEqual([49406, 1, 2, 49407, 5, 6, 0, 0]);
    expect(Array.from(lengths)).toEqual([4, 2]);
  });

  it('rejects ids that are not whole non-negative numbers', () => {
    expect(() => fitTokenRows([[1, Number.NaN]], { contextLength: 4, padId: 0 })).toThrow(/token row 0 has an invalid id at 1/);
  });
});

describe('restartDelay', () => {
  it('doubles from 0.25 s after each crash in a row, capped at 8 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map((n) => restartDelay(n))).toEqual([250, 500, 1000, 2000, 4000, 8000, 8000, 8000]);
    expect(restartDelay(3, { initialDelayMs: 10, maxDelayMs: 30 })).toBe(30);
  });
});
