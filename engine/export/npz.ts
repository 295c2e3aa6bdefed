// NumPy's .npz (a zip of .npy files, stored uncompressed), for datasets that
// exported PyTorch code trains on: `np.load("data.npz")["x_train"]`.
import { crc32 } from 'node:zlib';

export interface NpyArray {
  name: string;
  data: Float32Array | Int32Array;
  shape: number[];
}

/** One .npy file (format 1.0): magic, a Python-literal header padded to 64 bytes, little-endian data. */
export function encodeNpy(a: NpyArray): Buffer {
  const size = a.shape.reduce((p, d) => p * d, 1);
  if (size !== a.data.length) throw new Error(`array ${a.name}: shape [${a.shape.join(', ')}] holds ${size} values, not ${a.data.length}`);
  const descr = a.data instanceof Float32Array ? '<f4' : '<i4';
  const shape = `(${a.shape.join(', ')}${a.shape.length === 1 ? ',' : ''})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head.writeUInt8(1, 6);
  head.writeUInt8(0, 7);
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

/** A zip archive of `name.npy` entries, stored (no compression), as numpy.savez writes. */
export function encodeNpz(arrays: NpyArray[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const a of arrays) {
    const data = encodeNpy(a);
    if (data.length >= 0xffffffff) throw new Error(`array ${a.name} is too large for a .npz without zip64 (${data.length} bytes)`);
    const name = Buffer.from(`${a.name}.npy`, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4); // made by
    dir.writeUInt16LE(20, 6); // needed
    dir.writeUInt32LE(crc, 16);
    dir.writeUInt32LE(data.length, 20);
    dir.writeUInt32LE(data.length, 24);
    dir.writeUInt16LE(name.length, 28);
    dir.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    central.push(dir, name);
    offset += local.length + name.length + data.length;
  }
  const centralSize = central.reduce((s, b) => s + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(arrays.length, 8);
  end.writeUInt16LE(arrays.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...central, end]);
}
