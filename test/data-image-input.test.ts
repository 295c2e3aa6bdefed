// One image as a model input (what inspecting a dropped image uses): decoded by
// its signature, fitted like the image-folder import, normalised like training;
// images too large to decode safely are refused before any big allocation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';
import { decodeImage, imageInput } from '../engine/data/image-folder.js';
import { decodePng, encodePng } from '../engine/data/png.js';

const jpeg = createRequire(import.meta.url)('jpeg-js') as {
  encode(img: { width: number; height: number; data: Uint8Array }, quality: number): { data: Uint8Array };
};

/** The PNG with its header claiming another size (CRC fixed, so only the size is wrong). */
function withSize(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

test('decodeImage tells PNG from JPEG by the bytes, and names what it cannot read', () => {
  const rgb = { width: 2, height: 2, channels: 3 as const, data: Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255) };
  assert.deepEqual(decodeImage(encodePng(rgb)), rgb);
  const rgba = new Uint8Array(16 * 16 * 4).fill(200);
  const j = decodeImage(jpeg.encode({ width: 16, height: 16, data: rgba }, 90).data);
  assert.deepEqual([j.width, j.height, j.channels], [16, 16, 4]);
  assert.ok(Math.abs(j.data[0] - 200) <= 2);
  assert.throws(() => decodeImage(new TextEncoder().encode('GIF89a...')), /^Error: not a PNG or JPEG image$/);
  assert.throws(() => decodeImage(Uint8Array.of(0xff, 0xd8, 0xff, 0, 0)), /^Error: corrupt JPEG \(/);
});

test('imageInput: grey by luminance, bilinear resize, [0, 1], then the dataset normalisation', () => {
  // 4×2 RGB: left half red, right half white.
  const data = new Uint8Array(4 * 2 * 3);
  for (let i = 0; i < 8; i++) data.set(i % 4 < 2 ? [255, 0, 0] : [255, 255, 255], i * 3);
  const img = { width: 4, height: 2, channels: 3 as const, data };
  const grey = imageInput(img, [1, 2, 1]);
  assert.deepEqual(
    Array.from(grey, (v) => +v.toFixed(4)),
    [0.299, 1],
  );
  const rgb = imageInput(img, [1, 2, 3]);
  assert.deepEqual(Array.from(rgb), [1, 0, 0, 1, 1, 1]);
  const norm = imageInput(img, [1, 2, 1], { mean: [0.5], std: [0.25] });
  assert.deepEqual(
    Array.from(norm, (v) => +v.toFixed(4)),
    [-0.804, 2],
  );
  assert.throws(() => imageInput(img, [16]), /the model's input \[16\] is not an image with 1 \(grey\) or 3 \(RGB\) channels/);
  assert.throws(() => imageInput(img, [8, 8, 4]), /not an image with 1 \(grey\) or 3 \(RGB\) channels/);
});

test('PNGs whose header promises more than they hold, or too many pixels, are refused before decoding', () => {
  const big = encodePng({ width: 1000, height: 1000, channels: 1, data: new Uint8Array(1e6) });
  assert.equal(decodePng(big).data.length, 1e6);
  // The image data inflates to a million bytes; the header says 1×1.
  assert.throws(() => decodePng(withSize(big, 1, 1)), /corrupt PNG \(image data does not inflate/);
  assert.throws(() => decodePng(withSize(big, 20_000, 20_000)), /PNG too large \(20000×20000 pixels; at most 100 million\)/);
  // Under the pixel limit, but 81 MP of RGBA would inflate to 324 MB.
  const rgba = encodePng({ width: 2, height: 2, channels: 4, data: new Uint8Array(16) });
  assert.throws(() => decodePng(withSize(rgba, 9000, 9000)), /PNG too large \(9000×9000 pixels of 32 bits: more than 256 MiB of image data\)/);
});
