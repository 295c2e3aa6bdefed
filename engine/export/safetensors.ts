// The safetensors file format: an 8-byte little-endian header size, a JSON
// header of names, dtypes, shapes and byte offsets, then the raw data.
export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

export function encodeSafetensors(arrays: NamedArray[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const a of arrays) {
    const bytes = a.data.length * 4;
    header[a.name] = { dtype: 'F32', shape: a.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keeps the data 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const a of arrays) {
    out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), at);
    at += a.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array): NamedArray[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + size))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + size;
  return Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .map(([name, info]) => {
      if (info.dtype !== 'F32') throw new Error(`${name}: only F32 tensors are supported, got ${info.dtype}`);
      const [a, b] = info.data_offsets;
      const copy = bytes.slice(base + a, base + b);
      return { name, shape: info.shape, data: new Float32Array(copy.buffer, copy.byteOffset, (b - a) / 4) };
    });
}
