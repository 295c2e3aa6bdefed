// Small helpers that shape rules share. No tfjs here.
import { ShapeError, type Dim, type Shape } from './contract.js';

export function fmtShape(s: Shape): string {
  return `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** Requires a rank (counting batch) on an input; returns the shape for chaining. */
export function expectRank(shape: Shape, port: string, ranks: number | readonly number[], what?: string): Shape {
  const ok = typeof ranks === 'number' ? [ranks] : ranks;
  if (!ok.includes(shape.length)) {
    const want = ok.map((r) => `rank ${r}`).join(' or ');
    throw new ShapeError(`input "${port}" must have ${want}${what ? ` (${what})` : ''}, got ${fmtShape(shape)}`, port);
  }
  return shape;
}

/** NumPy-style broadcast of two shapes (batch included); throws naming the port. */
export function broadcast(a: Shape, b: Shape, port: string): Shape {
  const n = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    const ia = a.length - n + i;
    const ib = b.length - n + i;
    const x = ia < 0 ? 1 : a[ia];
    const y = ib < 0 ? 1 : b[ib];
    if (x === 1) out.push(y);
    else if (y === 1 || x === y) out.push(x);
    else if (x === null || y === null) out.push(x ?? y);
    else throw new ShapeError(`cannot broadcast ${fmtShape(a)} with ${fmtShape(b)}: axis ${i} is ${x} vs ${y}`, port);
  }
  return out;
}

export function product(dims: readonly Dim[]): Dim {
  let p = 1;
  for (const d of dims) {
    if (d === null) return null;
    p *= d;
  }
  return p;
}

export function positive(d: Dim, port: string, what: string): void {
  if (d !== null && d < 1) throw new ShapeError(`${what} would be ${d}: the input is too small`, port);
}
