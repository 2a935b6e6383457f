import { describe, expect, it } from 'vitest';
import { inferIo, modelIdFrom, pickPair, type GraphSummary } from '../../main/services/models/pairing.ts';

describe('pickPair', () => {
  it('finds the image and text encoders by name', () => {
    expect(pickPair(['README.md', 'text_model.onnx', 'vision_model.onnx'])).toEqual({ image: 'vision_model.onnx', text: 'text_model.onnx' });
    expect(pickPair(['clip_image_fp16.onnx', 'clip_text_fp16.onnx'])).toEqual({ image: 'clip_image_fp16.onnx', text: 'clip_text_fp16.onnx' });
    expect(pickPair(['visual.ONNX', 'textual.onnx'])).toEqual({ image: 'visual.ONNX', text: 'textual.onnx' });
  });

  it('says what is wrong when it cannot decide', () => {
    expect(() => pickPair(['notes.txt'], '/x')).toThrow(/No \.onnx files in \/x/);
    expect(() => pickPair(['a.onnx', 'b.onnx'], '/x')).toThrow(/Cannot tell .* \/x \(found: a\.onnx, b\.onnx\)/);
    expect(() => pickPair(['image_fp32.onnx', 'image_int8.onnx', 'text.onnx'], '/x')).toThrow(/more than one image or text encoder/);
  });
});

const clipImage: GraphSummary = {
  inputs: [{ name: 'pixel_values', type: 'float32', shape: ['batch', 3, 224, 224] }],
  outputs: [{ name: 'image_embeds', type: 'float32', shape: ['batch', 512] }],
};
const clipText: GraphSummary = {
  inputs: [{ name: 'input_ids', type: 'int64', shape: ['batch', 77] }],
  outputs: [{ name: 'text_embeds', type: 'float32', shape: ['batch', 512] }],
};
const files = { image: 'i.onnx', text: 't.onnx' };

describe('inferIo', () => {
  it('reads the standard CLIP export names', () => {
    expect(inferIo(clipImage, clipText, files)).toEqual({
      imageInput: 'pixel_values', imageOutput: 'image_embeds', textInput: 'input_ids', textMask: null, textOutput: 'text_embeds',
      textIds: 'int64', imageBatch: null, textBatch: null, normalised: false,
    });
  });

  it('handles other names, an attention mask and extra outputs', () => {
    const image: GraphSummary = {
      inputs: [{ name: 'x', type: 'float32', shape: [1, 3, 256, 256] }],
      outputs: [
        { name: 'last_hidden_state', type: 'float32', shape: [1, 50, 768] },
        { name: 'pooled_embedding', type: 'float32', shape: [1, 512] },
      ],
    };
    const text: GraphSummary = {
      inputs: [
        { name: 'tokens', type: 'int32', shape: [1, 77] },
        { name: 'attention_mask', type: 'int64', shape: [1, 77] },
      ],
      outputs: [{ name: 'out', type: 'float32', shape: [1, 512] }],
    };
    expect(inferIo(image, text, files)).toEqual({
      imageInput: 'x', imageOutput: 'pooled_embedding', textInput: 'tokens', textMask: 'attention_mask', textOutput: 'out',
      textIds: 'int32', imageBatch: 1, textBatch: 1, normalised: false,
    });
  });

  it('rejects swapped or unsupported graphs with what it found', () => {
    expect(() => inferIo(clipText, clipImage, files)).toThrow(/i\.onnx does not look like a CLIP image encoder \(inputs \[input_ids:int64\]/);
    const extra: GraphSummary = { ...clipText, inputs: [...clipText.inputs, { name: 'position_ids', type: 'int64', shape: [1, 77] }] };
    expect(() => inferIo(clipImage, extra, files)).toThrow(/does not look like a CLIP text encoder|Unsupported encoder inputs/);
  });
});

describe('modelIdFrom', () => {
  it('makes a folder name into a unique id', () => {
    expect(modelIdFrom('My CLIP (ViT-B/32)', () => false)).toBe('my-clip-vit-b-32');
    expect(modelIdFrom('clip', (id) => id === 'clip' || id === 'clip-2')).toBe('clip-3');
    expect(modelIdFrom('***', () => false)).toBe('imported-model');
  });
});
