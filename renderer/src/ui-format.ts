// Small text formatting shared by the canvas, inspector and panels.
import type { PortDef, Shape } from '../../engine/blocks/contract.js';
import { fmtShape } from '../../engine/blocks/shape-rules.js';

export { fmtShape };

export const shapeText = (s: Shape | undefined) => (s ? fmtShape(s) : '?');

export function rankText(port: PortDef): string {
  if (port.rank === undefined) return 'any rank';
  const r = typeof port.rank === 'number' ? [port.rank] : port.rank;
  return `rank ${r.join('/')}`;
}

export function paramValueText(v: unknown): string {
  if (Array.isArray(v)) return v.join('×');
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  return String(v);
}

export function countText(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 2 : 1)}k`;
  return `${(n / 1e6).toFixed(2)}M`;
}

/** Stable hue per category so nodes of a kind share a colour. */
const FIXED: Record<string, number> = {
  'Inputs & outputs': 140,
  Core: 210,
  Convolution: 190,
  Pooling: 175,
  Normalisation: 260,
  Merge: 30,
  Reshaping: 50,
  Heads: 330,
  Sequence: 280,
};
export function categoryHue(category: string): number {
  if (FIXED[category] !== undefined) return FIXED[category];
  if (/attention/i.test(category)) return 12;
  let h = 0;
  for (const c of category) h = (h * 31 + c.charCodeAt(0)) % 360;
  return h;
}

export const ATTENTION_LABEL = { spatial: 'spatial map', channel: 'channel weights', matrix: 'attention matrix', gate: 'gate' } as const;

/** A value in a results table: whole numbers as they are, others to four significant digits, missing as a dash. */
export const resultText = (v: unknown) =>
  v === undefined ? '—' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : typeof v === 'string' ? v : JSON.stringify(v);
