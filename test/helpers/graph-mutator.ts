// A seeded mutator of graph files: real templates, damaged the ways files get
// damaged (keys deleted, duplicated or retyped, extreme values, cut edges,
// repeats added, garbage bytes). The same seed always gives the same file.

import { rng } from '../../engine/data/random.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const EXTREME: Json[] = [
  0,
  -1,
  -1e9,
  1e6,
  1e9,
  1e308,
  -1e308,
  2 ** 53,
  0.5,
  'NaN',
  'Infinity',
  '1e9',
  '',
  null,
  true,
  [],
  {},
  [1e9, -1],
  '__proto__',
  'constructor',
  '\u001b[31m',
];
const KEYS = ['__proto__', 'constructor', 'toString', 'repeat', 'units', 'id', 'type', 'params', 'nodes', 'edges', 'from', 'to', 'port', 'node'];

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const isObj = (v: Json | undefined): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** Every container in the document, with its path, so a mutation can land anywhere. */
function containers(doc: Json): (Obj | Json[])[] {
  const out: (Obj | Json[])[] = [];
  const stack: Json[] = [doc];
  while (stack.length) {
    const v = stack.pop()!;
    if (v && typeof v === 'object') {
      out.push(v);
      stack.push(...(Array.isArray(v) ? v : Object.values(v)));
    }
  }
  return out;
}

/** The graph's nodes and edges lists, top level and in composites. */
function scopes(doc: Json): { nodes: Json[]; edges: Json[] }[] {
  if (!isObj(doc)) return [];
  const all = [doc, ...(Array.isArray(doc.composites) ? doc.composites : [])];
  return all.filter(isObj).flatMap((s) => (Array.isArray(s.nodes) && Array.isArray(s.edges) ? [{ nodes: s.nodes, edges: s.edges }] : []));
}

const MUTATIONS: Record<string, (doc: Json, r: () => number) => void> = {
  deleteKey(doc, r) {
    const objs = containers(doc).filter((c): c is Obj => isObj(c) && Object.keys(c).length > 0);
    if (!objs.length) return;
    const o = pick(r, objs);
    delete o[pick(r, Object.keys(o))];
  },
  duplicate(doc, r) {
    const arrays = containers(doc).filter((c): c is Json[] => Array.isArray(c) && c.length > 0);
    if (!arrays.length) return;
    const a = pick(r, arrays);
    a.splice(Math.floor(r() * a.length), 0, structuredClone(pick(r, a)));
  },
  retype(doc, r) {
    const objs = containers(doc).filter((c): c is Obj => isObj(c) && Object.keys(c).length > 0);
    if (!objs.length) return;
    const o = pick(r, objs);
    const k = pick(r, Object.keys(o));
    const v = o[k];
    o[k] = typeof v === 'number' ? String(v) : typeof v === 'string' ? Number(v) || v.length : Array.isArray(v) ? { ...v } : isObj(v) ? Object.values(v) : [v];
  },
  extreme(doc, r) {
    const objs = containers(doc).filter(isObj);
    const numeric = objs.flatMap((o) =>
      Object.keys(o)
        .filter((k) => typeof o[k] === 'number')
        .map((k) => [o, k] as const),
    );
    if (numeric.length) {
      const [o, k] = pick(r, numeric);
      o[k] = pick(r, EXTREME);
    }
  },
  addKey(doc, r) {
    const objs = containers(doc).filter(isObj);
    if (objs.length) pick(r, objs)[pick(r, KEYS)] = pick(r, EXTREME);
  },
  cutEdge(doc, r) {
    const s = scopes(doc).filter((x) => x.edges.length);
    if (s.length) {
      const e = pick(r, s).edges;
      e.splice(Math.floor(r() * e.length), 1);
    }
  },
  rewire(doc, r) {
    const s = scopes(doc).filter((x) => x.edges.length && x.nodes.length);
    if (!s.length) return;
    const { nodes, edges } = pick(r, s);
    const e = pick(r, edges);
    const n = pick(r, nodes);
    if (isObj(e) && isObj(e.to) && isObj(n))
      e.to = r() < 0.5 ? { node: n.id ?? 'x', port: e.to.port ?? 'in' } : { ...e.to, port: pick(r, ['in', 'in2', '__proto__', 'constructor', 'query', 'out']) };
  },
  addRepeat(doc, r) {
    const all = scopes(doc)
      .flatMap((x) => x.nodes)
      .filter(isObj);
    const composites = all.filter((n) => typeof n.type === 'string' && n.type.startsWith('composite:'));
    const target = composites.length ? pick(r, composites) : all.length ? pick(r, all) : undefined;
    if (target) target.params = { ...(isObj(target.params) ? target.params : {}), repeat: pick(r, [2, 10, 100, 1000, 1001, 1e9]) };
  },
  protoIds(doc, r) {
    const all = scopes(doc)
      .flatMap((x) => x.nodes)
      .filter(isObj);
    if (all.length) pick(r, all).id = pick(r, ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '\u001b[2Jx']);
  },
};

const MUTATION_NAMES = Object.keys(MUTATIONS);

/** A mutated graph file: 1 to 3 mutations of `source` (a file's text), and one in eight with garbage bytes inserted or the text cut. */
export function mutateGraphText(source: string, seed: number): { text: Uint8Array; mutations: string[] } {
  const r = rng(seed);
  const doc = JSON.parse(source) as Json;
  const mutations: string[] = [];
  for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
    const name = pick(r, MUTATION_NAMES);
    mutations.push(name);
    MUTATIONS[name](doc, r);
  }
  let bytes: Uint8Array = Buffer.from(JSON.stringify(doc, null, r() < 0.5 ? 2 : undefined));
  const roll = r();
  if (roll < 0.08) {
    const at = Math.floor(r() * bytes.length);
    const garbage = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256)));
    bytes = Buffer.concat([bytes.subarray(0, at), garbage, bytes.subarray(at)]);
    mutations.push('garbageBytes');
  } else if (roll < 0.125) {
    bytes = bytes.subarray(0, Math.floor(r() * bytes.length));
    mutations.push('truncate');
  }
  return { text: bytes, mutations };
}
