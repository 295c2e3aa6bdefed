// A small PNG codec on node:zlib: enough to read the images people keep in class
// folders (8- and 16-bit, grey, grey+alpha, RGB, RGBA, palette; not interlaced)
// and to write attention heatmaps.
import { crc32, deflateSync, inflateSync } from 'node:zlib';

/** 8-bit pixels, row-major, `channels` interleaved. */
export interface RasterImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
}

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
/** Samples per pixel for each PNG colour type. */
const SAMPLES: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** As jpeg-js's default limit: larger images are refused rather than decoded. */
export const MAX_PIXELS = 100e6;
/** And at most this much image data once inflated (a 16-bit RGBA image is 8 bytes a pixel). */
export const MAX_INFLATED_BYTES = 256 * 2 ** 20;

export const isPng = (buf: Uint8Array): boolean => buf.length >= 8 && SIGNATURE.equals(buf.subarray(0, 8));

export function decodePng(buf: Uint8Array): RasterImage {
  if (!isPng(buf)) throw new Error('not a PNG file (bad signature)');
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let width = 0,
    height = 0,
    depth = 0,
    type = -1,
    interlace = 0;
  let palette: Uint8Array | undefined;
  const idat: Buffer[] = [];
  let pos = 8;
  for (;;) {
    if (pos + 12 > view.length) throw new Error('truncated PNG (no IEND chunk)');
    const len = view.readUInt32BE(pos);
    const name = view.toString('latin1', pos + 4, pos + 8);
    if (pos + 12 + len > view.length) throw new Error(`truncated PNG (chunk ${name})`);
    const body = view.subarray(pos + 8, pos + 8 + len);
    if (view.readUInt32BE(pos + 8 + len) !== crc32(view.subarray(pos + 4, pos + 8 + len))) throw new Error(`corrupt PNG (bad CRC in chunk ${name})`);
    pos += 12 + len;
    if (name === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      depth = body[8];
      type = body[9];
      interlace = body[12];
    } else if (name === 'PLTE') palette = body;
    else if (name === 'IDAT') idat.push(body);
    else if (name === 'IEND') break;
  }
  const samples = SAMPLES[type];
  if (!samples || !width || !height) throw new Error('corrupt PNG (bad IHDR)');
  if (interlace) throw new Error('interlaced PNGs are not supported');
  if (![1, 2, 4, 8, 16].includes(depth) || (depth < 8 && samples !== 1)) throw new Error(`unsupported PNG bit depth ${depth}`);
  if (type === 3 && !palette) throw new Error('corrupt PNG (palette image without PLTE)');
  if (width * height > MAX_PIXELS) throw new Error(`PNG too large (${width}×${height} pixels; at most ${MAX_PIXELS / 1e6} million)`);
  const bpp = Math.max(1, (samples * depth) >> 3); // bytes per pixel, for the filters
  const stride = Math.ceil((width * samples * depth) / 8);
  if (height * (stride + 1) > MAX_INFLATED_BYTES)
    throw new Error(`PNG too large (${width}×${height} pixels of ${samples * depth} bits: more than ${MAX_INFLATED_BYTES / 2 ** 20} MiB of image data)`);
  let raw: Buffer;
  try {
    // Capped at what the header promises, so a small file cannot inflate into gigabytes.
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: height * (stride + 1) });
  } catch (e) {
    throw new Error(`corrupt PNG (image data does not inflate: ${(e as Error).message})`);
  }
  if (raw.length < height * (stride + 1)) throw new Error('corrupt PNG (image data too short)');
  const rows = unfilter(raw, height, stride, bpp);

  const outChannels = type === 3 ? (3 as const) : samples;
  const data = new Uint8Array(width * height * outChannels);
  for (let y = 0; y < height; y++) {
    const row = rows.subarray(y * stride, (y + 1) * stride);
    for (let x = 0; x < width; x++) {
      for (let s = 0; s < samples; s++) {
        const i = x * samples + s;
        let v: number;
        if (depth === 16) v = row[2 * i];
        else if (depth === 8) v = row[i];
        else v = (row[(i * depth) >> 3] >> (8 - depth - ((i * depth) & 7))) & ((1 << depth) - 1);
        const o = (y * width + x) * outChannels;
        if (type === 3) {
          if (3 * v + 2 >= palette!.length) throw new Error('corrupt PNG (palette index out of range)');
          data.set(palette!.subarray(3 * v, 3 * v + 3), o);
        } else data[o + s] = depth < 8 ? Math.round((v * 255) / ((1 << depth) - 1)) : v;
      }
    }
  }
  return { width, height, channels: outChannels, data };
}

function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = out.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? out.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0;
      const b = up[i];
      const c = i >= bpp ? up[i - bpp] : 0;
      let p: number;
      switch (filter) {
        case 0:
          p = 0;
          break;
        case 1:
          p = a;
          break;
        case 2:
          p = b;
          break;
        case 3:
          p = (a + b) >> 1;
          break;
        case 4: {
          const pa = Math.abs(b - c),
            pb = Math.abs(a - c),
            pc = Math.abs(a + b - 2 * c);
          p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new Error(`corrupt PNG (unknown filter ${filter} on row ${y})`);
      }
      cur[i] = (src[i] + p) & 255;
    }
  }
  return out;
}

function chunk(name: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(name, 4, 'latin1');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

/** Grey, grey+alpha, RGB or RGBA, 8 bits per sample, no filtering (heatmaps compress well anyway). */
export function encodePng(img: RasterImage): Buffer {
  const { width, height, channels, data } = img;
  if (data.length !== width * height * channels) throw new Error(`encodePng: ${data.length} bytes for ${width}×${height}×${channels}`);
  const type = { 1: 0, 2: 4, 3: 2, 4: 6 }[channels];
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = type;
  const stride = width * channels;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}
