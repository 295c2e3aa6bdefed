// A small WebAssembly assembler: functions written as opcode lists, compiled
// into one module that imports a memory. tfjs-backend-wasm's binary cannot be
// rebuilt here, but its heap is an exported WebAssembly.Memory, so kernels
// written with wasm SIMD (128-bit vectors, in Node since 16.4) can run on
// tensors' data in place, where JavaScript loops go one number at a time.

/** What this uses of the WebAssembly API (not in this project's TypeScript libs). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
export const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Instructions, nested as convenient. */
export type Code = number | Code[];

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

/** LEB128, unsigned. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** LEB128, signed (i32.const). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => vec([...new TextEncoder().encode(s)].map((b) => [b]));
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** Instructions: each returns its bytes. */
export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  f32: (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  /** A block (br 0 inside leaves it) or a loop (br 0 inside repeats it); no result. */
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  ret: [0x0f],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Or: [0x72],
  i32LtU: [0x49],
  i32GtU: [0x4b],
  i32Eqz: [0x45],
  f32Load: (offset = 0) => [0x2a, 2, ...uleb(offset)],
  f32Store: (offset = 0) => [0x38, 2, ...uleb(offset)],
  /** SIMD; loads and stores take a byte offset (alignment hint 0). */
  load: (offset = 0) => [0xfd, ...uleb(0x00), 0, ...uleb(offset)],
  store: (offset = 0) => [0xfd, ...uleb(0x0b), 0, ...uleb(offset)],
  /** One float32 loaded into all four lanes. */
  load32Splat: (offset = 0) => [0xfd, ...uleb(0x09), 0, ...uleb(offset)],
  /** Stores the low 8 bytes of a vector. */
  store64Low: (offset = 0) => [0xfd, ...uleb(0x5b), 0, ...uleb(offset), 0],
  /** A vector's upper 8 bytes moved to its lower half. */
  highToLow: [0xfd, ...uleb(0x0d), 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7],
  f32x4Splat: [0xfd, ...uleb(0x13)],
  f32x4ExtractLane0: [0xfd, ...uleb(0x1f), 0],
  /** pmax(a, b): a < b ? b : a, lane by lane (JavaScript's comparison, where max() takes +0 over -0 and NaN). */
  f32x4Pmax: [0xfd, ...uleb(0xeb)],
  /** Lanes 1 and 0 of a vector moved to lanes 0 and 1. */
  oddToEven: [0xfd, ...uleb(0x0d), 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3],
  f32x4Eq: [0xfd, ...uleb(0x41)],
  f32x4Ne: [0xfd, ...uleb(0x42)],
  f32x4Gt: [0xfd, ...uleb(0x44)],
  not: [0xfd, ...uleb(0x4d)],
  and: [0xfd, ...uleb(0x4e)],
  andNot: [0xfd, ...uleb(0x4f)],
  or: [0xfd, ...uleb(0x50)],
  /** bitselect(a, b, mask): a where mask bits are set, b elsewhere. */
  bitselect: [0xfd, ...uleb(0x52)],
  anyTrue: [0xfd, ...uleb(0x53)],
  f32x4Add: [0xfd, ...uleb(0xe4)],
  f32x4Mul: [0xfd, ...uleb(0xe6)],
  f32x4Div: [0xfd, ...uleb(0xe7)],
  /** Relaxed SIMD: a·b + c of the three operands on the stack, fused or not as the machine does it. */
  f32x4RelaxedMadd: [0xfd, ...uleb(0x105)],
  f64x2Add: [0xfd, ...uleb(0xf0)],
  f64x2Sub: [0xfd, ...uleb(0xf1)],
  f64x2Mul: [0xfd, ...uleb(0xf2)],
  f64x2Div: [0xfd, ...uleb(0xf3)],
  /** The lower halves of two vectors, the first's then the second's. */
  lowHalves: [0xfd, ...uleb(0x0d), 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23],
  f64x2PromoteLow: [0xfd, ...uleb(0x5f)],
  f32x4DemoteF64x2Zero: [0xfd, ...uleb(0x5e)],
};

const flatten = (code: Code[]): number[] => code.flatMap((c) => (typeof c === 'number' ? [c] : flatten(c)));

export interface AsmFunction {
  name: string;
  params: number[];
  results?: number[];
  /** Locals after the parameters, by type. */
  locals?: number[];
  body: Code[];
}

/** Compiles `fns` into one module importing `memory` as env.memory; returns its exports by name. */
export function assemble(memory: WasmMemory, fns: AsmFunction[]): Record<string, (...args: number[]) => number> {
  const types = section(1, vec(fns.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec((f.results ?? []).map((t) => [t]))])));
  const imports = section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]]));
  const functions = section(3, vec(fns.map((_, i) => uleb(i))));
  const exports = section(7, vec(fns.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])));
  const code = section(
    10,
    vec(
      fns.map((f) => {
        const body = [...vec((f.locals ?? []).map((t) => [1, t])), ...flatten(f.body), 0x0b];
        return [...uleb(body.length), ...body];
      }),
    ),
  );
  const bytes = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...functions, ...exports, ...code]);
  if (!wasmApi) throw new Error('no WebAssembly in this runtime');
  const instance = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } });
  return instance.exports as never;
}

/** What assembling on tfjs-backend-wasm's heap needs of its backend: its Emscripten module, whose exports hold the heap's memory. */
interface WasmBackendModule {
  wasm?: { asm?: { memory?: unknown } };
}

/** This wasm backend's heap memory, or null where it is not reachable. */
export function heapMemory(backend: unknown): WasmMemory | null {
  const memory = (backend as WasmBackendModule).wasm?.asm?.memory;
  return wasmApi && memory instanceof wasmApi.Memory ? (memory as WasmMemory) : null;
}

/**
 * `fns` assembled on a wasm backend's heap, once per backend: the exports by
 * name, or null where the heap's memory is not reachable or wasm SIMD does not
 * compile.
 */
export function onWasmHeap<T>(fns: () => AsmFunction[]): (backend: unknown) => T | null {
  const compiled = new WeakMap<object, T | null>();
  return (backend) => {
    const b = backend as object;
    if (compiled.has(b)) return compiled.get(b)!;
    let kernels: T | null = null;
    const memory = heapMemory(b);
    if (memory) {
      try {
        kernels = assemble(memory, fns()) as T;
      } catch {
        kernels = null;
      }
    }
    compiled.set(b, kernels);
    return kernels;
  };
}

/** `body` while at + step <= limit (its value on the stack), local `at` stepping by `step`. */
export function whileFits(at: number, step: number, limit: Code[], body: Code[]): Code[] {
  return [
    op.block,
    op.loop,
    [op.get(at), op.i32(step), op.i32Add, ...limit, op.i32GtU, op.brIf(1)],
    body,
    [op.get(at), op.i32(step), op.i32Add, op.set(at), op.br(0)],
    op.end,
    op.end,
  ];
}

/** Local acc += a · b on f32x4 locals: one fused (relaxed SIMD) multiply-add, or a multiply and an add. */
export function madd(fused: boolean, a: number, b: number, acc: number): Code[] {
  return fused
    ? [op.get(a), op.get(b), op.get(acc), op.f32x4RelaxedMadd, op.set(acc)]
    : [op.get(a), op.get(b), op.f32x4Mul, op.get(acc), op.f32x4Add, op.set(acc)];
}

/** Sets V8's flag for relaxed SIMD where this runs in Node (the proposal is behind a flag in Node 20; later V8s ship it). */
function enableRelaxedSimd(): void {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const v8 = proc?.getBuiltinModule?.('node:v8') as { setFlagsFromString?: (flags: string) => void } | undefined;
  v8?.setFlagsFromString?.('--experimental-wasm-relaxed-simd');
}

/**
 * assemble() of functions built with fused multiply-adds (relaxed SIMD) where they
 * compile, else with multiply and add (unless `fused` is false: those only); null
 * where neither compiles.
 */
export function assembleFused(
  memory: WasmMemory,
  build: (fused: boolean) => AsmFunction[],
  fused = true,
): { exports: Record<string, (...args: number[]) => number>; fused: boolean } | null {
  for (const fma of fused ? [true, false] : [false]) {
    try {
      if (fma) enableRelaxedSimd();
      return { exports: assemble(memory, build(fma)), fused: fma };
    } catch {
      // not this way: try the next
    }
  }
  return null;
}
