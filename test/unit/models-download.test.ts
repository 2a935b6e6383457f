import { describe, expect, it } from 'vitest';
import { checkUrlAllowed, parseContentRange } from '../../main/services/models/download.ts';

describe('checkUrlAllowed', () => {
  it('allows https anywhere and http only to this computer', () => {
    expect(() => checkUrlAllowed(new URL('https://huggingface.co/x/resolve/main/a.onnx'))).not.toThrow();
    expect(() => checkUrlAllowed(new URL('http://127.0.0.1:8080/a.onnx'))).not.toThrow();
    expect(() => checkUrlAllowed(new URL('http://localhost/a.onnx'))).not.toThrow();
    expect(() => checkUrlAllowed(new URL('http://[::1]/a.onnx'))).not.toThrow();
    expect(() => checkUrlAllowed(new URL('http://huggingface.co/a.onnx'))).toThrow(/only https/);
    expect(() => checkUrlAllowed(new URL('ftp://127.0.0.1/a.onnx'))).toThrow(/only https/);
    expect(() => checkUrlAllowed(new URL('file:///etc/passwd'))).toThrow(/only https/);
  });
});

describe('parseContentRange', () => {
  it('reads start, end and total', () => {
    expect(parseContentRange('bytes 100-199/200')).toEqual({ start: 100, end: 199, total: 200 });
    expect(parseContentRange('bytes 0-9/*')).toEqual({ start: 0, end: 9, total: null });
  });
  it('returns null for anything else', () => {
    expect(parseContentRange(undefined)).toBeNull();
    expect(parseContentRange('bytes */200')).toBeNull();
    expect(parseContentRange('items 1-2/3')).toBeNull();
  });
});
