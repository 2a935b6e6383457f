/**
 * Which ONNX Runtime execution providers to try, in order. Pure so the platform rules are
 * testable anywhere; the worker does the actual trying and records why each one failed.
 */
export type ProviderName = 'cuda' | 'dml' | 'coreml' | 'cpu';

/** 'auto' means the accelerators this platform can have, best first, then the CPU which always works. */
export function providerOrder(requested: 'auto' | ProviderName[] | undefined, platform: NodeJS.Platform = process.platform): ProviderName[] {
  if (requested && requested !== 'auto') {
    if (requested.length === 0) return ['cpu'];
    return [...new Set(requested)];
  }
  const order: ProviderName[] = [];
  if (platform === 'linux' || platform === 'win32') order.push('cuda');
  if (platform === 'win32') order.push('dml');
  if (platform === 'darwin') order.push('coreml');
  order.push('cpu');
  return order;
}
