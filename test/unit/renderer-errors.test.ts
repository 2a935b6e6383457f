import { describe, expect, it } from 'vitest';
import { errorCodes } from '../../main/core/contract.ts';
import { CallError, desktopError, errorMessage } from '../../renderer/src/lib/client.ts';
import { MAX_SEARCH_IMAGE_BYTES, imageFileProblem, imageSearchError, sentence } from '../../renderer/src/lib/errors.ts';

describe("the renderer's error parser", () => {
  it('recovers every error code the contract defines from an Electron IPC error', () => {
    for (const code of errorCodes) {
      const e = desktopError(new Error(`Error invoking remote method 'photos.get': Error: ${code}: Something went wrong.`));
      expect(e).toBeInstanceOf(CallError);
      expect(e.code).toBe(code);
      expect(e.message).toBe('Something went wrong.');
    }
  });
  it('keeps a message whose prefix is not a contract code whole, as a failure', () => {
    const e = desktopError(new Error("Error invoking remote method 'x': Error: note: this is not a code"));
    expect(e.code).toBe('failed');
    expect(e.message).toBe('note: this is not a code');
  });
});

describe('one wording per error', () => {
  it('capitalises, drops repeated prefixes and ends with one stop; names and paths keep their spelling', () => {
    expect(sentence('Error: Error: folder is gone')).toBe('Folder is gone.');
    expect(sentence('TypeError: failed to fetch')).toBe('Failed to fetch.');
    expect(sentence('photo.jpg is not in the library')).toBe('photo.jpg is not in the library.');
    expect(sentence('/home/me is not a folder.')).toBe('/home/me is not a folder.');
    expect(sentence('  ')).toBe('Something went wrong.');
    expect(errorMessage(new CallError('failed', 'the model is loading'))).toBe('The model is loading.');
  });
  it('says how a file to search with came, before and after it is sent', () => {
    const png = { name: 'cat.png', type: 'image/png', size: 1000 };
    expect(imageFileProblem(png, 'chosen')).toBeNull();
    expect(imageFileProblem({ name: 'notes.txt', type: 'text/plain', size: 10 }, 'dropped')).toBe('The dropped file, notes.txt, is not an image.');
    expect(imageFileProblem({ ...png, size: MAX_SEARCH_IMAGE_BYTES + 1 }, 'chosen')).toBe('The chosen file, cat.png, is too large to search with (over 48 MB).');
    // The app's reason says "not a readable image" once; the renderer says which file.
    expect(imageSearchError('Not a readable image: Input buffer contains unsupported image format', 'dropped', 'cat.png')).toBe(
      'The dropped file, cat.png, is not a readable image: input buffer contains unsupported image format.',
    );
    expect(imageSearchError('the model is loading', 'chosen', 'cat.png')).toBe('Could not search with the chosen file, cat.png: the model is loading.');
  });
});
