import { describe, expect, it } from 'vitest';
import { errorCodes } from '../../main/core/contract.ts';
import { CallError, desktopError } from '../../renderer/src/lib/client.ts';

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
