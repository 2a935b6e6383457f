// The renderer's situational words: search placeholders, the slider's key steps, where the encoder runs, sizes.
import { describe, expect, it } from 'vitest';
import { placeholderFor, sliderStep } from '../../renderer/src/lib/search-words.ts';
import { executionSummary } from '../../renderer/src/lib/execution.ts';
import { bytes } from '../../renderer/src/lib/format.ts';

describe('search placeholder', () => {
  it('suggests what the active model can answer', () => {
    expect(placeholderFor({ id: 'shapesworld-student', testModel: false }, ['a red circle', 'two squares'])).toContain('“a red circle”');
    expect(placeholderFor({ id: 'color-oracle', testModel: true }, [])).toMatch(/colour/);
    expect(placeholderFor({ id: 'tiny-clip', testModel: true }, [])).toMatch(/test model/);
    expect(placeholderFor({ id: 'clip-vit-b32', testModel: false }, [])).toMatch(/Describe a photo/);
    expect(placeholderFor(null, [])).toMatch(/Describe a photo/);
  });
});

describe('relevance slider keys', () => {
  const range = { min: 0.1, max: 0.3 };
  it('steps by a twentieth with arrows and a fifth with Page keys, never past the ends', () => {
    expect(sliderStep('ArrowRight', 0.1, range)).toBeCloseTo(0.11, 6);
    expect(sliderStep('ArrowLeft', 0.2, range)).toBeCloseTo(0.19, 6);
    expect(sliderStep('PageUp', 0.1, range)).toBeCloseTo(0.14, 6);
    expect(sliderStep('ArrowRight', 0.3, range)).toBe(0.3); // the best match stays visible
    expect(sliderStep('ArrowLeft', 0.1, range)).toBe(0.1);
    expect(sliderStep('Home', 0.25, range)).toBe(0.1);
    expect(sliderStep('End', 0.1, range)).toBe(0.3);
    expect(sliderStep('Enter', 0.1, range)).toBeNull();
    expect(sliderStep('ArrowRight', 0.1, { min: 0.1, max: 0.1 })).toBeNull();
  });
});

describe('where the encoder runs, in plain words', () => {
  it('says CPU and why, GPU and which', () => {
    expect(executionSummary({ provider: 'cpu', requested: ['cuda', 'cpu'] }, true).sentence).toBe('Running on the CPU — no supported GPU found.');
    expect(executionSummary({ provider: 'cpu', requested: ['cpu'] }, true).sentence).toMatch(/^Running on the CPU — no supported GPU found/);
    expect(executionSummary({ provider: 'cpu', requested: ['cpu'] }, false).sentence).toMatch(/turned off in Settings/);
    expect(executionSummary({ provider: 'cuda', requested: ['cuda', 'cpu'] }, true)).toMatchObject({ device: 'GPU', sentence: 'Running on the GPU (CUDA).' });
  });
});

describe('one size unit', () => {
  it('writes sizes in decimal units, as the Lab does (1 MB = 10⁶ bytes)', () => {
    expect(bytes(1_000_000)).toBe('1.0 MB');
    expect(bytes(350_000_000)).toBe('350 MB');
    expect(bytes(999)).toBe('999 B');
    expect(bytes(1_500)).toBe('1.5 kB');
    expect(bytes(2.5e9)).toBe('2.5 GB');
  });
});
