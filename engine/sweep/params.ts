// A sweep's parameters: `--param` texts parsed into a target (a node's block
// parameter or a training setting) and a domain (a list of values or a range),
// then checked against the graph, so a typo is refused before any trial runs.
//
//   node.param=v1,v2,v3      these values                 se.reduction=2,8
//   setting=v1,v2            a training setting           optimizer=adam,sgd
//   name=lo:hi               floats, uniform              dropout.rate=0.1:0.5
//   name=lo:hi:log           floats, log-uniform          lr=1e-3:1e-2:log
//   name=lo:hi[:log]:n       ... and n points on a grid   lr=1e-4:1e-2:log:3
//   name=lo..hi[:log]        whole numbers                heads.heads=1..8
import type { ParamDef } from '../blocks/contract.js';
import { registry } from '../blocks/registry.js';
import type { GraphFile } from '../graph/types.js';
import { trainConfigSchema } from '../schemas/train-config.js';

import type { ParamValue } from './types.js';
export type { ParamValue };

export type Domain =
  | { kind: 'choice'; values: ParamValue[] }
  | { kind: 'float'; lo: number; hi: number; log: boolean; points: number }
  | { kind: 'int'; lo: number; hi: number; log: boolean };

export type Target = { kind: 'node'; nodeId: string; param: string } | { kind: 'training'; key: string };

export interface SweepParam {
  /** As written: `se.reduction=2,8`. */
  text: string;
  /** The name a trial's values are keyed by: `se.reduction`, `lr`. */
  key: string;
  target: Target;
  domain: Domain;
}

/** A `--param` that cannot be parsed or does not fit the graph; the message names it. */
export class SweepParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepParamError';
  }
}

/** Grid points a float range gets when its text does not say. */
export const DEFAULT_GRID_POINTS = 3;

const SYNTAX = 'expected NAME=v1,v2 | NAME=lo:hi[:log][:points] | NAME=lo..hi[:log], where NAME is node.param or a training setting';

const fail = (text: string, why: string): never => {
  throw new SweepParamError(`--param '${text}': ${why}`);
};

function number(text: string, s: string, what: string): number {
  const n = s.trim() === '' ? NaN : Number(s);
  if (!Number.isFinite(n)) fail(text, `${what} "${s}" is not a number`);
  return n;
}

/** A list item: a number where it reads as one, true/false, otherwise the text. */
function token(s: string): ParamValue {
  const t = s.trim();
  if (t !== '' && Number.isFinite(Number(t))) return Number(t);
  if (t === 'true' || t === 'false') return t === 'true';
  return t;
}

function parseDomain(text: string, value: string): Domain {
  const ints = /^([^:]+?)\.\.([^:]+?)(:log)?$/.exec(value);
  if (ints) {
    const lo = number(text, ints[1], 'lower bound');
    const hi = number(text, ints[2], 'upper bound');
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) fail(text, 'the bounds of lo..hi must be whole numbers');
    if (lo > hi) fail(text, `the range ${lo}..${hi} is empty`);
    if (ints[3] && lo <= 0) fail(text, 'a :log range needs bounds above 0');
    return { kind: 'int', lo, hi, log: Boolean(ints[3]) };
  }
  if (value.includes(':')) {
    const [loText, hiText, ...rest] = value.split(':');
    const lo = number(text, loText, 'lower bound');
    const hi = number(text, hiText ?? '', 'upper bound');
    let log = false;
    let points = DEFAULT_GRID_POINTS;
    for (const r of rest) {
      if (r === 'log' && !log) log = true;
      else if (/^\d+$/.test(r) && Number(r) >= 2) points = Number(r);
      else fail(text, `"${r}" after the range is neither "log" nor a number of grid points (2 or more)`);
    }
    if (!(lo < hi)) fail(text, `the range ${lo}:${hi} is empty (lower bound first)`);
    if (log && lo <= 0) fail(text, 'a :log range needs bounds above 0');
    return { kind: 'float', lo, hi, log, points };
  }
  const items = value.split(',');
  if (items.some((v) => v.trim() === '')) fail(text, `an empty value in the list "${value}"`);
  const values = items.map(token);
  const seen = new Set(values.map((v) => JSON.stringify(v)));
  if (seen.size !== values.length) fail(text, `a value is listed twice in "${value}"`);
  return { kind: 'choice', values };
}

/** One `--param` text, by syntax only (see the top of this file). */
export function parseParam(text: string): SweepParam {
  const eq = text.indexOf('=');
  if (eq <= 0) fail(text, `no "=": ${SYNTAX}`);
  const key = text.slice(0, eq).trim();
  const value = text.slice(eq + 1).trim();
  if (value === '') fail(text, `no values after "=": ${SYNTAX}`);
  if (!/^[A-Za-z0-9_.-]+$/.test(key)) fail(text, `"${key}" is not a parameter name: ${SYNTAX}`);
  // Node ids may hold dots; parameter names never do, so the last dot splits them.
  const dot = key.lastIndexOf('.');
  const target: Target = dot < 0 ? { kind: 'training', key } : { kind: 'node', nodeId: key.slice(0, dot), param: key.slice(dot + 1) };
  if (target.kind === 'node' && (!target.nodeId || !target.param)) fail(text, `"${key}" is not node.param: ${SYNTAX}`);
  return { text, key, target, domain: parseDomain(text, value) };
}

/** Every `--param`; the same name twice is refused. */
export function parseParams(texts: readonly string[]): SweepParam[] {
  if (texts.length === 0) throw new SweepParamError(`no --param given: ${SYNTAX}`);
  const params = texts.map(parseParam);
  const keys = new Set<string>();
  for (const p of params) {
    if (keys.has(p.key)) fail(p.text, `"${p.key}" is swept by another --param too`);
    keys.add(p.key);
  }
  return params;
}

const TRAINING_KEYS = Object.keys(trainConfigSchema.shape);

/** Why `value` does not fit a block parameter, or undefined when it does. */
function blockValueProblem(def: ParamDef, value: ParamValue): string | undefined {
  switch (def.type) {
    case 'int':
    case 'float':
      if (typeof value !== 'number' || (def.type === 'int' && !Number.isInteger(value)))
        return `needs ${def.type === 'int' ? 'a whole number' : 'a number'}, not ${JSON.stringify(value)}`;
      if (def.min !== undefined && value < def.min) return `${value} is below its minimum ${def.min}`;
      if (def.max !== undefined && value > def.max) return `${value} is above its maximum ${def.max}`;
      return undefined;
    case 'bool':
      return typeof value === 'boolean' ? undefined : `needs true or false, not ${JSON.stringify(value)}`;
    case 'enum':
      return def.options.includes(String(value)) ? undefined : `${JSON.stringify(value)} is not one of ${def.options.join(', ')}`;
    case 'string':
      return undefined;
    case 'ints':
      return 'is a list of numbers, which a sweep cannot vary yet';
  }
}

/** The values a domain's bounds and list stand for, to check against a parameter's type and range. */
function samplesOf(d: Domain): ParamValue[] {
  return d.kind === 'choice' ? d.values : [d.lo, d.hi];
}

/** Checks each parameter against the graph (node, block parameter, type, range) and the training settings. */
export function checkParams(params: readonly SweepParam[], graph: GraphFile): void {
  for (const p of params) {
    const t = p.target;
    if (t.kind === 'training') {
      if (!TRAINING_KEYS.includes(t.key)) fail(p.text, `"${t.key}" is neither node.param nor a training setting (${TRAINING_KEYS.join(', ')})`);
      const schema = trainConfigSchema.shape[t.key as keyof typeof trainConfigSchema.shape];
      for (const v of samplesOf(p.domain)) {
        const r = schema.safeParse(v);
        if (!r.success) fail(p.text, `training setting ${t.key}: ${JSON.stringify(v)} is refused (${r.error.issues[0]?.message})`);
      }
      if (p.domain.kind === 'float' && !schema.safeParse((p.domain.lo + p.domain.hi) / 2 + 1e-9).success)
        fail(p.text, `training setting ${t.key} takes whole numbers: use lo..hi`);
      continue;
    }
    const node = graph.nodes.find((n) => n.id === t.nodeId);
    if (!node) fail(p.text, `the graph has no node "${t.nodeId}" (its nodes: ${graph.nodes.map((n) => n.id).join(', ')})`);
    if (node!.type.startsWith('composite:')) {
      if (t.param !== 'repeat') fail(p.text, `node "${t.nodeId}" is a composite; only its "repeat" can be swept`);
      for (const v of samplesOf(p.domain))
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
          fail(p.text, `node "${t.nodeId}": repeat needs a whole number of at least 1, not ${JSON.stringify(v)}`);
      continue;
    }
    const block = registry.get(node!.type);
    if (!block) fail(p.text, `node "${t.nodeId}" has the unknown block type "${node!.type}"`);
    const def = (block!.params as Record<string, ParamDef>)[t.param];
    if (!def)
      fail(p.text, `node "${t.nodeId}" (${node!.type}) has no parameter "${t.param}" (its parameters: ${Object.keys(block!.params).join(', ') || 'none'})`);
    if (p.domain.kind === 'float' && def.type !== 'float')
      fail(p.text, `node "${t.nodeId}": ${t.param} is ${def.type === 'int' ? 'a whole number: use lo..hi' : `of type ${def.type}: list its values`}`);
    if (p.domain.kind === 'int' && def.type !== 'int' && def.type !== 'float')
      fail(p.text, `node "${t.nodeId}": ${t.param} is of type ${def.type}: list its values`);
    for (const v of samplesOf(p.domain)) {
      const problem = blockValueProblem(def, v);
      if (problem) fail(p.text, `node "${t.nodeId}" (${node!.type}) parameter ${t.param} ${problem}`);
    }
  }
}

/** The graph with a trial's block parameters set (training settings are not the graph's). */
export function applyToGraph(graph: GraphFile, params: readonly SweepParam[], values: Record<string, ParamValue>): GraphFile {
  const out = structuredClone(graph);
  for (const p of params) {
    if (p.target.kind !== 'node') continue;
    const { nodeId, param } = p.target;
    const node = out.nodes.find((n) => n.id === nodeId);
    if (node) node.params = { ...node.params, [param]: values[p.key] };
  }
  return out;
}

/** A trial's training settings among its values. */
export function trainingValues(params: readonly SweepParam[], values: Record<string, ParamValue>): Record<string, ParamValue> {
  return Object.fromEntries(params.flatMap((p) => (p.target.kind === 'training' ? [[p.target.key, values[p.key]]] : [])));
}

/** `se.reduction=2 lr=0.001`: a trial's values for names and logs. */
export function describeValues(values: Record<string, ParamValue>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
