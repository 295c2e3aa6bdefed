// Ports and shape rule shared by the encoder–decoder attention blocks (Bahdanau, Luong).
import type { PortDef, Shape } from '../../contract.js';
import { checkMask, maskPort, sameDim, sequence } from './shapes.js';

export const alignmentPorts = {
  inputs: [
    { name: 'query', doc: 'Decoder states [B, Tq, Dq] (one step: Tq = 1).', rank: 3 },
    { name: 'keys', doc: 'Encoder states [B, Tk, Dk] (the annotations).', rank: 3 },
    { name: 'values', doc: 'Values [B, Tk, Dv] to average; defaults to the keys, as in the papers.', rank: 3, optional: true },
    maskPort,
  ] satisfies PortDef[],
  outputs: [
    { name: 'out', doc: 'Context vectors [B, Tq, Dv].' },
    { name: 'weights', doc: 'Alignment weights [B, Tq, Tk]; each row sums to 1.', attention: 'matrix', axes: 'batch, query, key' },
  ] satisfies PortDef[],
};

/** Shapes of the context and the alignment weights; also returns the feature sizes. */
export function alignmentShape(inputs: Record<string, Shape>): { out: Shape; weights: Shape; dq: number; dk: number } {
  const [tq, dq] = sequence(inputs.query, 'query');
  const [tk, dk] = sequence(inputs.keys, 'keys');
  let dv = dk;
  if (inputs.values) {
    const [tv, f] = sequence(inputs.values, 'values');
    sameDim(tk, tv, 'values', 'keys and values must have the same number of steps');
    dv = f;
  }
  checkMask(inputs.mask, tk, 'mask', 'keys');
  const b = inputs.query[0];
  return { out: [b, tq, dv], weights: [b, tq, tk], dq, dk };
}
