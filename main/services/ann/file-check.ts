/**
 * Is an hnswlib index file whole? hnswlib writes through a C++ ofstream and never checks it: on a
 * full disk `writeIndex` returns as if all went well and leaves a cut-off file (measured on a
 * 1 MB tmpfs). Hashing that file and pointing `ann_state` at it would make a "verified" index
 * that hnswlib cannot read back, so every file written is walked once: the header, the level-0
 * block, then one length-prefixed link list per element, which must end exactly at the end of
 * the file. The walk reads only the link-list tail (about 4 bytes a photo).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

/** hnswlib's saveIndex header: 6 size_t, an int, a uint32, 5 more 8-byte fields (see hnswalg.h). */
const HEADER_BYTES = 96;
const COUNT_AT = 16;
const SIZE_DATA_AT = 24;

/** Null when the file is whole, else what is wrong with it. */
export async function hnswFileProblem(path: string): Promise<string | null> {
  const fh = await open(path, 'r');
  let fileBytes: number;
  let tailStart: number;
  let count: number;
  try {
    fileBytes = (await fh.stat()).size;
    if (fileBytes < HEADER_BYTES) return `it holds ${fileBytes} bytes, less than its header`;
    const header = Buffer.alloc(HEADER_BYTES);
    await fh.read(header, 0, HEADER_BYTES, 0);
    count = Number(header.readBigUInt64LE(COUNT_AT));
    tailStart = HEADER_BYTES + count * Number(header.readBigUInt64LE(SIZE_DATA_AT));
  } finally {
    await fh.close();
  }
  if (tailStart > fileBytes) return `it ends at ${fileBytes} bytes, inside its vectors (${tailStart} bytes)`;
  // Each element: a uint32 length, then that many bytes of upper-level links.
  let end = tailStart;
  let left = count;
  const lengthBytes = Buffer.alloc(4);
  let have = 0;
  let skip = 0;
  for await (const chunk of createReadStream(path, { start: tailStart }) as AsyncIterable<Buffer>) {
    let i = 0;
    while (i < chunk.length && left > 0) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        if (skip === 0) left--;
        continue;
      }
      lengthBytes[have++] = chunk[i++]!;
      if (have < 4) continue;
      have = 0;
      skip = lengthBytes.readUInt32LE(0);
      end += 4 + skip;
      if (skip === 0) left--;
    }
    if (left === 0) break;
  }
  if (left > 0 || end > fileBytes) return `it ends at ${fileBytes} bytes, inside the links of element ${count - left + 1} of ${count}`;
  if (end !== fileBytes) return `it has ${fileBytes - end} bytes after its last element`;
  return null;
}
