// NumPy's .npy format (version 1.0): what the PyTorch worker memory-maps.
// A magic string, a Python-dict header padded to 64 bytes, then the raw
// little-endian values in C order.
import { open } from 'node:fs/promises';

const DESCR = { float32: '<f4', int32: '<i4', float64: '<f8' } as const;
type Values = Float32Array | Int32Array | Float64Array;

function dtypeOf(a: Values): keyof typeof DESCR {
  return a instanceof Float32Array ? 'float32' : a instanceof Int32Array ? 'int32' : 'float64';
}

export function npyHeader(dtype: keyof typeof DESCR, shape: readonly number[]): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': (${dims}), }`;
  const unpadded = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1')]);
}

/** Writes an array of `shape` to `file`; `parts` are written one after another (no concatenated copy). */
export async function writeNpy(file: string, shape: readonly number[], parts: Values | Values[]): Promise<void> {
  const list = Array.isArray(parts) ? parts : [parts];
  const size = shape.reduce((a, b) => a * b, 1);
  const total = list.reduce((s, p) => s + p.length, 0);
  if (total !== size) throw new Error(`${file}: ${total} values do not fill shape [${shape.join(', ')}]`);
  const f = await open(file, 'w');
  try {
    await f.write(npyHeader(list.length ? dtypeOf(list[0]) : 'float32', shape));
    for (const p of list) await f.write(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  } finally {
    await f.close();
  }
}
