/**
 * ONNX model building, pure code: protobuf encode/decode of ModelProto, a graph builder with
 * CLIP's transformer layers, CLIP-shaped recipes and the colour oracle. Owns no files and does no
 * I/O — scripts/generate-models.ts writes what these build; the lab decodes, transforms, encodes.
 */
export * from './proto.ts';
export * from './builder.ts';
export * from './layers.ts';
export * from './random.ts';
export * from './clip.ts';
export * from './color-oracle.ts';
export * from './twin.ts';
