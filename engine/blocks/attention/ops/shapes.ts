// Shape-rule helpers shared by the sequence attention blocks. No tfjs here.
import { ShapeError, type Dim, type PortDef, type Shape } from '../../contract.js';
import { expectRank, fmtShape } from '../../shape-rules.js';

/** A sequence [B, T, F] whose feature size is known; returns [T, F]. */
export function sequence(shape: Shape, port: string): [Dim, number] {
  const [, t, f] = expectRank(shape, port, 3, 'a sequence [batch, time, features]');
  if (f === null) throw new ShapeError(`input "${port}" needs a known feature size, got ${fmtShape(shape)}`, port);
  return [t, f];
}

/** Two dimensions that must agree (unknown agrees with anything). */
export function sameDim(a: Dim, b: Dim, port: string, what: string): void {
  if (a !== null && b !== null && a !== b) throw new ShapeError(`${what}: ${a} vs ${b}`, port);
}

/** The optional padding-mask input of the blocks that attend over keys. */
export const maskPort: PortDef = {
  name: 'mask',
  doc: "Optional padding mask [B, Tk] over the keys: 1 keeps a key, 0 masks it (the Keras convention; PyTorch's key_padding_mask is its negation).",
  rank: 2,
  optional: true,
};

/** A padding mask [B, Tk] over the keys (1 keeps a key, 0 masks it). */
export function checkMask(mask: Shape | undefined, keys: Dim, port = 'mask', keyPort = 'key'): void {
  if (!mask) return;
  const [, t] = expectRank(mask, port, 2, 'a padding mask [batch, keys]');
  sameDim(t, keys, port, `the padding mask must have one entry per ${keyPort} step`);
}

/** Per-head size: `explicit`, or `total / heads`, which must then divide evenly. */
export function perHead(total: number, heads: number, explicit: number, port: string, what: string): number {
  if (explicit > 0) return explicit;
  if (total % heads !== 0)
    throw new ShapeError(`parameter "heads" (${heads}) must divide the ${what} (${total}); choose a divisor or set the per-head size`, port);
  return total / heads;
}
