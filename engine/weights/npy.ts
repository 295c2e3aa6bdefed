// NumPy's .npy format (version 1 and 2), float32 only: what `attn predict` reads and writes.
import type { NamedArray } from '../export/safetensors.js';

export type NpyArray = Pick<NamedArray, 'shape' | 'data'>;

const MAGIC = '\x93NUMPY';

/** Reads a little-endian float32 (or float64, converted) C-order array; throws saying what the file holds instead. */
export function readNpy(bytes: Uint8Array, file: string): NpyArray {
  const text = (a: number, b: number) => Buffer.from(bytes.subarray(a, b)).toString('latin1');
  if (bytes.length < 10 || text(0, 6) !== MAGIC) throw new Error(`${file} is not a .npy file (no \\x93NUMPY magic)`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = text(start, start + headerLength);
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new Error(`${file}: unreadable .npy header ${JSON.stringify(header.trim())}`);
  if (fortran) throw new Error(`${file}: Fortran-order arrays are not supported (save with np.ascontiguousarray)`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const body = bytes.subarray(start + headerLength);
  const width = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (!width) throw new Error(`${file}: dtype ${descr} is not supported (float32 "<f4" or float64 "<f8")`);
  if (body.length < count * width) throw new Error(`${file} ends early: ${body.length} bytes of data for ${count} values`);
  const copy = new Uint8Array(body.subarray(0, count * width)).buffer;
  const data = width === 4 ? new Float32Array(copy) : Float32Array.from(new Float64Array(copy));
  return { shape, data };
}

/** A version-1 .npy file of a float32 array. */
export function writeNpy({ shape, data }: NpyArray): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.write(MAGIC, 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
