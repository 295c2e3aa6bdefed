// Graph files made to hurt: tiny files that expand without bound, huge
// parameters, long chains, prototype keys, terminal escapes, bytes that are not
// UTF-8, JSON nested past any parser's recursion. Each entry says what it must
// give: a clean graph, or an error on a named node (or about the file).
import { serializeGraph } from '../../engine/graph/schema.js';
import { hasErrors, type CompositeDef, type Diagnostic, type GraphFile } from '../../engine/graph/types.js';
import { loadGraphFile } from '../../engine/shapes/load.js';
import { exportCode } from '../../engine/export/targets.js';
import { ExportError } from '../../engine/export/plan.js';
import { compileGraph } from '../../engine/compile/compile.js';
import type { TF } from '../../engine/blocks/contract.js';
import { cin, composite, cout, graphWith, use } from './composites.js';
import { graph, loadTemplate } from './graphs.js';

/**
 * `levels` composites, each holding the next one repeated `repeat` times
 * (the innermost holds one Dense): repeat^levels Dense layers once expanded,
 * from a file of a few KB.
 */
export function nestedRepeats(levels = 10, repeat = 10): GraphFile {
  const defs: CompositeDef[] = [];
  for (let k = 0; k < levels; k++) {
    const inner: [string, string, Record<string, unknown>] = k === levels - 1 ? ['d', 'core.dense', { units: 8 }] : ['d', use(`L${k + 1}`), { repeat }];
    defs.push(
      composite(
        `L${k}`,
        [cin(), inner, cout()],
        [
          ['in.out', 'd.in'],
          ['d.out', 'out.in'],
        ],
      ),
    );
  }
  return graphWith(
    defs,
    [
      ['x', 'io.input', { kind: 'vector', features: 8 }],
      ['top', use('L0'), { repeat }],
      ['y', 'io.output', { loss: 'none' }],
    ],
    [
      ['x.out', 'top.in'],
      ['top.out', 'y.in'],
    ],
    `${levels} nested composites, each repeated ${repeat} times`,
  );
}

/** Composites that each use the next one twice, side by side, without repeats: 2^levels instances. */
export function nestedFanOut(levels = 40): GraphFile {
  const defs: CompositeDef[] = [];
  for (let k = 0; k < levels; k++) {
    const next = k === levels - 1 ? 'core.activation' : use(`F${k + 1}`);
    defs.push(
      composite(
        `F${k}`,
        [cin(), ['a', next], ['b', next], ['sum', 'core.add'], cout()],
        [
          ['in.out', 'a.in'],
          ['in.out', 'b.in'],
          ['a.out', 'sum.in1'],
          ['b.out', 'sum.in2'],
          ['sum.out', 'out.in'],
        ],
      ),
    );
  }
  return graphWith(
    defs,
    [
      ['x', 'io.input', { kind: 'vector', features: 4 }],
      ['top', use('F0')],
      ['y', 'io.output', { loss: 'none' }],
    ],
    [
      ['x.out', 'top.in'],
      ['top.out', 'y.in'],
    ],
  );
}

/** Input → `n` blocks of `type` in a row → Output. */
export function chain(n: number, type = 'core.activation', params: Record<string, unknown> = {}): GraphFile {
  const nodes: Parameters<typeof graph>[0] = [['x', 'io.input', { kind: 'vector', features: 4 }]];
  const edges: Parameters<typeof graph>[1] = [];
  for (let i = 0; i < n; i++) {
    nodes.push([`a${i}`, type, params]);
    edges.push([i === 0 ? 'x.out' : `a${i - 1}.out`, `a${i}.in`]);
  }
  nodes.push(['y', 'io.output', { loss: 'none' }]);
  edges.push([`a${n - 1}.out`, 'y.in']);
  return graph(nodes, edges, `chain of ${n}`);
}

/** Input (vector of `features`) → one block → Output. */
export function oneBlock(id: string, type: string, params: Record<string, unknown>, features = 784): GraphFile {
  return graph(
    [
      ['x', 'io.input', { kind: 'vector', features }],
      [id, type, params],
      ['y', 'io.output', { loss: 'none' }],
    ],
    [
      ['x.out', `${id}.in`],
      [`${id}.out`, 'y.in'],
    ],
  );
}

export interface HostileCase {
  name: string;
  /** The file's bytes (text is written as UTF-8). */
  content: string | Uint8Array;
  /** What validation must give: a clean graph, an error on this node, or an error about the file (no node to name). */
  expect: { valid: true } | { node: string } | { file: RegExp };
  /** A message that must be among the errors. */
  message?: RegExp;
}

const PROTO_KEYS = ['__proto__', 'constructor', 'toString'];
const ESC = '\u001b[2J\u001b[31mevil\u0007';

/** A graph's JSON text with the entry "RAW": 0 (in a node or its params) replaced by `raw`: keys and nesting JSON.stringify would not write. */
function withRaw(g: GraphFile, raw: string): string {
  const text = JSON.stringify(g);
  if (!text.includes('"RAW":0')) throw new Error('withRaw: the graph has no "RAW": 0 entry');
  return text.replace('"RAW":0', () => raw);
}

/** Input → Dense `d` (units 3) → Output, with `node` merged into d's node and `params` into its parameters. */
function denseWith(node: Record<string, unknown>, params: Record<string, unknown>): GraphFile {
  const g = oneBlock('d', 'core.dense', { units: 3, ...params }, 4);
  Object.assign(g.nodes[1], node);
  return g;
}

export function hostileCorpus(): HostileCase[] {
  const cases: HostileCase[] = [];
  const add = (c: HostileCase) => cases.push(c);
  const json = (g: GraphFile) => serializeGraph(g);

  add({
    name: 'nested repeats 10×10',
    content: json(nestedRepeats()),
    expect: { node: 'top' },
    message: /nodes after inlining.*"top" \(composite "L0" ×10\) → "d" \(composite "L1" ×10\)/,
  });
  add({ name: 'nested fan-out 2^40', content: json(nestedFanOut()), expect: { node: 'top' }, message: /nodes after inlining/ });
  add({
    name: 'composites nested 5,000 deep',
    content: json(nestedRepeats(5000, 1)),
    expect: { node: 'top' },
    message: /^composites nest 5000 deep \("L0" → "L1" → "L2" → … → "L4999"\); at most 50 levels$/,
  });
  add({ name: 'composites nested 50 deep', content: json(nestedRepeats(50, 1)), expect: { valid: true } });
  add({
    name: 'dense of 1e6 units',
    content: json(oneBlock('wide', 'core.dense', { units: 1e6 })),
    expect: { node: 'wide' },
    message: /785,000,000 parameters.*"wide" alone/,
  });
  add({
    name: 'embedding of 1e7 × 1e5',
    content: json(
      graph(
        [
          ['t', 'io.input', { kind: 'tokens', length: 4, vocabSize: 10 }],
          ['e', 'core.embedding', { vocabSize: 1e7, dim: 1e5 }],
          ['y', 'io.output', { loss: 'none' }],
        ],
        [
          ['t.out', 'e.in'],
          ['e.out', 'y.in'],
        ],
      ),
    ),
    expect: { node: 'e' },
    message: /parameters/,
  });
  add({
    name: 'conv of 1e5 filters on a big image',
    content: json(
      graph(
        [
          ['x', 'io.input', { kind: 'image', height: 512, width: 512, channels: 3 }],
          ['c', 'core.conv2d', { filters: 100000 }],
          ['y', 'io.output', { loss: 'none' }],
        ],
        [
          ['x.out', 'c.in'],
          ['c.out', 'y.in'],
        ],
      ),
    ),
    expect: { node: 'c' },
    message: /of activations per sample/,
  });
  add({ name: 'chain of 5,000', content: json(chain(5000)), expect: { node: 'y' }, message: /layers on its longest path.*ending at node "y"/ });
  add({ name: 'chain of 1,000', content: json(chain(1000)), expect: { valid: true } });
  add({ name: 'units 1e9', content: json(oneBlock('d', 'core.dense', { units: 1e9 })), expect: { node: 'd' }, message: /parameter "units" must be between/ });
  add({
    name: 'kernel 1e6',
    content: json(
      graph(
        [
          ['x', 'io.input', { kind: 'image', height: 8, width: 8, channels: 1 }],
          ['c', 'core.conv2d', { kernel: 1e6 }],
          ['y', 'io.output'],
        ],
        [
          ['x.out', 'c.in'],
          ['c.out', 'y.in'],
        ],
      ),
    ),
    expect: { node: 'c' },
    message: /"kernel"/,
  });
  add({ name: 'negative units', content: json(oneBlock('d', 'core.dense', { units: -5 })), expect: { node: 'd' }, message: /"units"/ });
  add({
    name: 'NaN as a string',
    content: json(oneBlock('d', 'core.dense', { units: 'NaN' })),
    expect: { node: 'd' },
    message: /must be an integer \(got "NaN"\)/,
  });
  add({
    name: 'Infinity as a string',
    content: json(oneBlock('d', 'core.dense', { units: 'Infinity', useBias: 'true' })),
    expect: { node: 'd' },
    message: /"units"/,
  });
  add({
    name: 'repeat 1e9',
    content: json(
      graphWith(
        [
          composite(
            'C',
            [cin(), ['r', 'core.activation'], cout()],
            [
              ['in.out', 'r.in'],
              ['r.out', 'out.in'],
            ],
          ),
        ],
        [
          ['x', 'io.input', { kind: 'vector', features: 4 }],
          ['c', use('C'), { repeat: 1e9 }],
          ['y', 'io.output'],
        ],
        [
          ['x.out', 'c.in'],
          ['c.out', 'y.in'],
        ],
      ),
    ),
    expect: { node: 'c' },
    message: /"repeat"/,
  });

  // Prototype keys as node ids: ordinary ids, a valid graph.
  add({
    name: 'prototype keys as node ids',
    content: json(
      graph(
        [
          ['__proto__', 'io.input', { kind: 'vector', features: 4 }],
          ['constructor', 'core.dense', { units: 3 }],
          ['toString', 'core.activation'],
          ['hasOwnProperty', 'io.output', { loss: 'none' }],
        ],
        [
          ['__proto__.out', 'constructor.in'],
          ['constructor.out', 'toString.in'],
          ['toString.out', 'hasOwnProperty.in'],
        ],
      ),
    ),
    expect: { valid: true },
  });
  for (const key of PROTO_KEYS) {
    add({
      name: `param named ${key}`,
      content: withRaw(denseWith({}, { RAW: 0 }), `${JSON.stringify(key)}:{"polluted":true}`),
      expect: { node: 'd' },
      message: key === '__proto__' ? /^nodes\[1\] \("d"\)\.params: "__proto__" is not allowed as a key$/ : new RegExp(`unknown parameter "${key}"`),
    });
    add({ name: `block type ${key}`, content: json(oneBlock('d', key, {}, 4)), expect: { node: 'd' }, message: new RegExp(`unknown block type "${key}"`) });
    add({
      name: `composite type ${key}`,
      content: json(oneBlock('d', use(key), {}, 4)),
      expect: { node: 'd' },
      message: new RegExp(`unknown composite "${key}"`),
    });
    add({
      name: `port ${key}`,
      content: json(
        graph(
          [
            ['x', 'io.input', { kind: 'vector', features: 4 }],
            ['d', 'core.dense'],
            ['y', 'io.output'],
          ],
          [
            ['x.out', `d.${key}`],
            ['d.out', 'y.in'],
          ],
        ),
      ),
      expect: { node: 'd' },
      message: new RegExp(`no input port "${key}"`),
    });
    add({
      name: `node key ${key}`,
      content: withRaw(denseWith({ RAW: 0 }, {}), `${JSON.stringify(key)}:{"polluted":true}`),
      ...(key === '__proto__' ? { expect: { node: 'd' }, message: /"__proto__" is not allowed/ } : { expect: { valid: true } }),
    });
  }
  // A composite named and ported with prototype keys: valid, and it must compile and export.
  add({
    name: 'composite and ports named __proto__',
    content: json({
      ...graphWith(
        [
          composite(
            '__proto__',
            [
              ['__proto__', 'io.compositeInput', { name: '__proto__' }],
              ['r', 'core.activation'],
              ['constructor', 'io.compositeOutput', { name: 'constructor' }],
            ],
            [
              ['__proto__.out', 'r.in'],
              ['r.out', 'constructor.in'],
            ],
          ),
        ],
        [
          ['x', 'io.input', { kind: 'vector', features: 4 }],
          ['c', use('__proto__'), { repeat: 2 }],
          ['y', 'io.output', { loss: 'none' }],
        ],
        [
          ['x.out', 'c.__proto__'],
          ['c.constructor', 'y.in'],
        ],
      ),
    }),
    expect: { valid: true },
  });

  // Escapes in ids and labels: the diagnostics name the node, and print it escaped.
  add({
    name: 'terminal escapes in an id',
    content: json(
      graph(
        [
          ['x', 'io.input', { kind: 'vector', features: 4 }],
          [ESC, 'core.dense'],
          ['y', 'io.output'],
        ],
        [['x.out', 'y.in']],
      ),
    ),
    expect: { node: ESC },
    message: /not connected/,
  });
  add({ name: 'terminal escapes in a label', content: json(denseWith({ label: `${ESC}\u202eevil` }, {})), expect: { valid: true } });
  add({
    name: 'terminal escapes in the name and a type',
    content: json({ ...oneBlock('d', `core.${ESC}`, {}, 4), name: ESC }),
    expect: { node: 'd' },
    message: /unknown block type/,
  });

  // Bytes and text.
  const template = json(loadTemplate('mlp.attn.json'));
  add({ name: 'BOM', content: `\ufeff${template}`, expect: { valid: true } });
  add({
    name: 'invalid UTF-8',
    content: Buffer.concat([Buffer.from(template.slice(0, 200)), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(template.slice(200))]),
    expect: { file: /not UTF-8 text/ },
  });
  add({ name: 'UTF-16 file', content: Buffer.from(`\ufeff${template}`, 'utf16le'), expect: { file: /not UTF-8 text|malformed JSON/ } });
  add({ name: 'truncated', content: template.slice(0, template.length / 2), expect: { file: /malformed JSON/ } });
  add({ name: 'empty file', content: '', expect: { file: /malformed JSON/ } });
  add({ name: 'NUL bytes', content: Buffer.alloc(4096), expect: { file: /malformed JSON/ } });

  // Deep and huge JSON.
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  add({ name: 'deeply nested top level', content: deep(200_000), expect: { file: /malformed JSON|top level must be a JSON object|stack|nested/ } });
  add({
    name: 'deeply nested parameter',
    content: withRaw(denseWith({}, { RAW: 0 }), `"units":${deep(100_000)}`),
    expect: { node: 'd' },
    message: /"units" must be an integer \(got a list nested too deep to show\)/,
  });
  add({ name: 'deeply nested extra key', content: withRaw(denseWith({ RAW: 0 }, {}), `"extra":${deep(100_000)}`), expect: { valid: true } });
  const many = chain(3);
  const bigArray = {
    ...many,
    nodes: [...many.nodes, ...Array.from({ length: 100_000 }, (_, i) => ({ id: `n${i}`, type: 'core.activation', params: {}, position: { x: 0, y: 0 } }))],
  };
  add({ name: '100,000 nodes', content: json(bigArray), expect: { file: /^the file has 100,005 nodes, over the limit of 20,000 nodes/ } });
  add({
    name: 'huge string id',
    content: json(
      graph(
        [
          ['x', 'io.input', { kind: 'vector', features: 4 }],
          ['d'.repeat(1_000_000), 'core.dense'],
          ['y', 'io.output'],
        ],
        [],
      ),
    ),
    expect: { file: /must be at most 200 characters/ },
  });
  add({
    name: 'huge parameter list',
    content: json(oneBlock('d', 'core.dense', { units: Array.from({ length: 1_000_000 }, (_, i) => i) }, 4)),
    expect: { node: 'd' },
    message: /"units" must be an integer \(got \[0,1,2,.*… \(\d+ characters\)\)/,
  });
  return cases;
}

/**
 * A diagnostic that speaks of a node (or an entry of a node list) without
 * saying which, so the editor could not show it; a node whose id itself is
 * bad has no name to give, and its index names it.
 */
export function unnamedNode(d: Diagnostic): boolean {
  if (d.nodeId !== undefined || d.composite !== undefined) return false;
  return /\bnode "|\bnodes\[\d+\]/.test(d.message) && !/^nodes\[\d+\]( \("[^"]*"\))?\.id: /.test(d.message);
}

export interface ProbeResult {
  diagnostics: Diagnostic[];
  valid: boolean;
  /** What threw where nothing may throw (validate, export, compile of a valid graph). */
  crash?: string;
  ms: number;
  /** Heap in use after the probe, bytes. */
  heapUsed: number;
  compiled: boolean;
  exported: number;
}

/**
 * A graph file through everything a user can point at it: validate (the
 * file, as `attn validate` reads it), then for a valid graph the three
 * exports and, with `tf`, a compile on that backend.
 */
export async function probeGraphFile(file: string, opts: { tf?: TF; exportTargets?: readonly ('tfjs' | 'keras' | 'pytorch')[] } = {}): Promise<ProbeResult> {
  const t0 = performance.now();
  const r: ProbeResult = { diagnostics: [], valid: false, ms: 0, heapUsed: 0, compiled: false, exported: 0 };
  try {
    const loaded = await loadGraphFile(file);
    r.diagnostics = loaded.diagnostics;
    r.valid = !!loaded.graph && !hasErrors(loaded.diagnostics);
    if (r.valid) {
      for (const target of opts.exportTargets ?? (['tfjs', 'keras', 'pytorch'] as const)) {
        try {
          exportCode(loaded.graph!, target);
          r.exported++;
        } catch (err) {
          if (!(err instanceof ExportError)) throw err;
        }
      }
      if (opts.tf) {
        compileGraph(opts.tf, loaded.graph!).model.dispose();
        r.compiled = true;
      }
    }
  } catch (err) {
    r.crash = (err as Error).stack ?? String(err);
  }
  r.ms = performance.now() - t0;
  r.heapUsed = process.memoryUsage().heapUsed;
  return r;
}
