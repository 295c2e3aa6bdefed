// Import of an image folder with one sub-folder per class (the torchvision
// ImageFolder layout). Images are decoded, converted to the wanted channels and
// resized bilinearly; pixel values end up in [0, 1].
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { decodePng, isPng, MAX_PIXELS, type RasterImage } from './png.js';
import { ArrayDataset, normalizeInputs, type Normalization } from './dataset.js';
import { isRegularFile, readRegularFile } from './files.js';

const require = createRequire(import.meta.url);

export interface ImageFolderOptions {
  height: number;
  width: number;
  /** 1: grey (luminance), 3: RGB. Alpha is dropped. */
  channels: 1 | 3;
  /** At most this many images per class, in file-name order. */
  perClassLimit?: number;
  /** Keep the centre of each image, this fraction of its shorter side, before resizing (torchvision's Resize(256) + CenterCrop(224): 0.875). */
  centreCrop?: number;
}

/** The centre of an image with the aspect of height × width, `fraction` of the largest such box. */
export function cropCentre(img: RasterImage, fraction: number, height: number, width: number): RasterImage {
  const boxH = Math.min(img.height, (img.width * height) / width);
  const h = Math.max(1, Math.round(boxH * fraction));
  const w = Math.max(1, Math.min(img.width, Math.round((h * width) / height)));
  const top = Math.floor((img.height - h) / 2);
  const left = Math.floor((img.width - w) / 2);
  const data = new Uint8Array(h * w * img.channels);
  for (let y = 0; y < h; y++)
    data.set(img.data.subarray(((top + y) * img.width + left) * img.channels, ((top + y) * img.width + left + w) * img.channels), y * w * img.channels);
  return { width: w, height: h, channels: img.channels, data };
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;

type JpegDecoder = {
  decode(buf: Uint8Array, opts: { useTArray: true; formatAsRGBA: true; maxResolutionInMP: number }): { width: number; height: number; data: Uint8Array };
};
let jpeg: JpegDecoder | null | undefined;

export const isJpeg = (buf: Uint8Array) => buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;

/** Decodes PNG or JPEG bytes, told apart by their signature. JPEG needs the optional `jpeg-js` package; PNG is decoded here. */
export function decodeImage(buf: Uint8Array): RasterImage {
  if (isPng(buf)) return decodePng(buf);
  if (!isJpeg(buf)) throw new Error('not a PNG or JPEG image');
  if (jpeg === undefined) {
    try {
      jpeg = require('jpeg-js') as JpegDecoder;
    } catch {
      jpeg = null;
    }
  }
  if (!jpeg) throw new Error('JPEG images need the jpeg-js package, which is not installed (PNG works without it)');
  let img;
  try {
    img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6 });
  } catch (e) {
    throw new Error(`corrupt JPEG (${e instanceof Error ? e.message : String(e)})`);
  }
  return { width: img.width, height: img.height, channels: 4, data: img.data };
}

/** Channel c (0..2 as RGB) of pixel i, for any input layout. */
function rgbAt(img: RasterImage, i: number, c: number): number {
  const o = i * img.channels;
  return img.channels <= 2 ? img.data[o] : img.data[o + c];
}

/** Bilinear resize (align-corners off, as tf.image.resizeBilinear) into out, values / 255. */
export function resizeInto(img: RasterImage, out: Float32Array, height: number, width: number, channels: 1 | 3): void {
  const sy = img.height / height;
  const sx = img.width / width;
  const px = (x: number, y: number, c: number) => {
    const i = y * img.width + x;
    return channels === 3 ? rgbAt(img, i, c) : 0.299 * rgbAt(img, i, 0) + 0.587 * rgbAt(img, i, 1) + 0.114 * rgbAt(img, i, 2);
  };
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy),
      y1 = Math.min(y0 + 1, img.height - 1),
      wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx),
        x1 = Math.min(x0 + 1, img.width - 1),
        wx = fx - x0;
      for (let c = 0; c < channels; c++) {
        const top = px(x0, y0, c) * (1 - wx) + px(x1, y0, c) * wx;
        const bottom = px(x0, y1, c) * (1 - wx) + px(x1, y1, c) * wx;
        out[(y * width + x) * channels + c] = (top * (1 - wy) + bottom * wy) / 255;
      }
    }
  }
}

/** How an image becomes a model input: its size and channels, and the centre crop where the dataset takes one. */
export type ImageFit = Pick<ImageFolderOptions, 'height' | 'width' | 'channels' | 'centreCrop'>;

/** An image fitted into `out` (height × width × channels, in [0, 1]): centre-cropped where asked, then resized bilinearly. */
export function fitImage(img: RasterImage, fit: ImageFit, out: Float32Array): void {
  const cropped = fit.centreCrop ? cropCentre(img, fit.centreCrop, fit.height, fit.width) : img;
  resizeInto(cropped, out, fit.height, fit.width, fit.channels);
}

/**
 * One image as a model input of `shape` ([height, width, 1 or 3]): the steps the
 * image-folder import takes (fitImage: centre crop where the dataset takes one,
 * channels, bilinear resize, [0, 1]), then the dataset's normalisation when
 * training applied one.
 */
export function imageInput(img: RasterImage, shape: readonly number[], normalization?: Normalization, centreCrop?: number): Float32Array {
  const [height, width, channels] = shape;
  if (shape.length !== 3 || (channels !== 1 && channels !== 3))
    throw new Error(`the model's input ${JSON.stringify(shape)} is not an image with 1 (grey) or 3 (RGB) channels`);
  const x = new Float32Array(height * width * channels);
  fitImage(img, { height, width, channels, centreCrop }, x);
  return normalization ? normalizeInputs(x, normalization) : x;
}

/** An image folder's classes and files, listed but not read: what a preview counts. */
export interface ImageFolderListing {
  dir: string;
  classNames: string[];
  files: string[];
  labels: Int32Array;
}

export async function listImageFolder(dir: string, perClassLimit?: number): Promise<ImageFolderListing> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new Error(`cannot read image folder ${dir}: ${(e as Error).message}`);
  }
  const classNames = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  if (classNames.length < 2) throw new Error(`${dir}: an image folder needs one sub-folder per class, at least two; found ${classNames.length}`);
  const files: string[] = [];
  const labels: number[] = [];
  for (const [label, name] of classNames.entries()) {
    const classDir = path.join(dir, name);
    let names;
    try {
      names = (await readdir(classDir)).filter((f) => IMAGE_EXT.test(f)).sort();
    } catch (e) {
      throw new Error(`cannot read class folder ${classDir}: ${(e as Error).message}`);
    }
    // Only regular files (symlinks to them included): a FIFO, socket, device or folder named x.png is skipped.
    const regular = await Promise.all(names.map((f) => isRegularFile(path.join(classDir, f))));
    const images = names.filter((_, i) => regular[i]).slice(0, perClassLimit);
    if (images.length === 0) throw new Error(`${classDir}: class "${name}" has no PNG or JPEG images`);
    for (const f of images) {
      files.push(path.join(classDir, f));
      labels.push(label);
    }
  }
  return { dir, classNames, files, labels: Int32Array.from(labels) };
}

/** The listed images `rows` (all by default), decoded and fitted to height × width × channels. */
export async function readImageFolder(listing: ImageFolderListing, opts: ImageFolderOptions, rows?: ArrayLike<number>): Promise<ArrayDataset> {
  const { height, width, channels } = opts;
  const picked = rows ? Array.from(rows) : listing.files.map((_, i) => i);
  const size = height * width * channels;
  const x = new Float32Array(picked.length * size);
  const labels = new Int32Array(picked.length);
  for (const [i, row] of picked.entries()) {
    const file = listing.files[row];
    const bytes = await readRegularFile(file);
    let img: RasterImage;
    try {
      img = decodeImage(bytes);
    } catch (e) {
      throw new Error(`${file}: ${(e as Error).message}`);
    }
    fitImage(img, opts, x.subarray(i * size, (i + 1) * size));
    labels[i] = listing.labels[row];
  }
  return new ArrayDataset({ name: path.basename(path.resolve(listing.dir)), inputShape: [height, width, channels], classNames: listing.classNames, x, labels });
}

export async function loadImageFolder(dir: string, opts: ImageFolderOptions): Promise<ArrayDataset> {
  return readImageFolder(await listImageFolder(dir, opts.perClassLimit), opts);
}
