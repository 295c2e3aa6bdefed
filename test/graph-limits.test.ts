// The limits on a graph's expanded size: computed without expanding, refused
// by the analysis with the culprit named, held to by inlining as well, and
// loose enough for every template.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import { inlineGraph, InlineLimitError } from '../engine/shapes/inline.js';
import { DEFAULT_LIMITS, LIMITS_ENV, parseLimits } from '../engine/shapes/limits.js';
import { blockLayerDepth } from '../engine/shapes/block-size.js';
import { compileGraph } from '../engine/compile/compile.js';
import { loadGraphFile } from '../engine/shapes/load.js';
import { formatDiagnostic } from '../engine/graph/types.js';
import { portsOf } from '../engine/blocks/contract.js';
import { resolveParams } from '../engine/blocks/params.js';
import { registry } from '../engine/blocks/registry.js';
import { exampleGraph, loadTemplate, templateFiles } from './helpers/graphs.js';
import { chain, nestedRepeats, oneBlock } from './helpers/hostile-graphs.js';
import { attn } from './helpers/cli.js';
import { tfReady } from './helpers/tf.js';

const errors = (g: Parameters<typeof analyzeGraph>[0], limits = {}) => analyzeGraph(g, undefined, { limits }).diagnostics.filter((d) => d.severity === 'error');

/** Runs `fn` with ATTN_LIMITS set to `value`, restoring it afterwards. */
function withEnvLimits<T>(value: string, fn: () => T): T {
  const before = process.env[LIMITS_ENV];
  process.env[LIMITS_ENV] = value;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env[LIMITS_ENV];
    else process.env[LIMITS_ENV] = before;
  }
}

test('10 nested composites repeated 10 times: a 5 KB file refused in milliseconds, naming the composites', () => {
  const g = nestedRepeats(10, 10);
  assert.ok(JSON.stringify(g).length < 6000, `${JSON.stringify(g).length} bytes`);
  const t0 = performance.now();
  const a = analyzeGraph(g);
  const ms = performance.now() - t0;
  assert.ok(ms < 500, `${ms.toFixed(0)} ms`);
  // Per level: the composite node, and 10 copies of (input, inner, output); the innermost holds a Dense.
  let inside = 3;
  for (let k = 0; k < 9; k++) inside = 2 + 1 + 10 * inside;
  assert.equal(a.size.nodes, 3 + 1 + 10 * inside - 1);
  const [d] = a.diagnostics.filter((x) => x.severity === 'error');
  assert.equal(d.nodeId, 'top');
  assert.match(
    d.message,
    /^the graph has 33,333,333,333 nodes after inlining composites and repeats, over the limit of 20,000 \(.* times the limit\); "top" \(composite "L0" ×10\) → "d" \(composite "L1" ×10\) → .* "d" \(composite "L9" ×10\) makes/,
  );
  assert.match(d.message, /--limits nodes=N/);
});

test('the node count equals what inlining visits: exactly at the limit passes, one below is refused, and inlining refuses too', () => {
  const g = nestedRepeats(3, 4);
  const a = analyzeGraph(g);
  assert.deepEqual(errors(g), []);
  assert.deepEqual(errors(g, { nodes: a.size.nodes }), []);
  const [d] = errors(g, { nodes: a.size.nodes - 1 });
  assert.equal(d.nodeId, 'top');
  // Dense layers inlined: 4^3 of the innermost; the count adds inputs, outputs, composite and port nodes.
  assert.equal(inlineGraph(g, a).length, 2 + 4 ** 3);
  assert.doesNotThrow(() => inlineGraph(g, { ...a, limits: { ...a.limits, nodes: a.size.nodes } }));
  assert.throws(() => inlineGraph(g, { ...a, limits: { ...a.limits, nodes: a.size.nodes - 1 } }), InlineLimitError);
});

test('a Dense of 1e6 units (7.8e8 parameters) is refused by the parameter limit', () => {
  const [d] = errors(oneBlock('wide', 'core.dense', { units: 1e6 }));
  assert.equal(d.nodeId, 'wide');
  assert.equal(
    d.message,
    'the graph has 785,000,000 parameters, over the limit of 250,000,000 (214% over); node "wide" alone has 785,000,000. Make it smaller, or raise the limit with --limits params=N (or ATTN_LIMITS).',
  );
  assert.deepEqual(errors(oneBlock('wide', 'core.dense', { units: 1e6 }), { params: 1e9 }), []);
});

test('activation memory per sample is limited: a 1e5-filter convolution of a 512² image', () => {
  const g = chain(1, 'core.conv2d', { filters: 100000 });
  g.nodes[0].params = { kind: 'image', height: 512, width: 512, channels: 1 };
  const [d] = errors(g, { params: 1e12 });
  assert.equal(d.nodeId, 'a0');
  assert.match(d.message, /^the graph has 97\.7 GB of activations per sample, over the limit of 1\.0 GB/);
});

test('tfjs-layers overflows the stack compiling a chain of 5,000 layers; the depth limit refuses it first, and a chain at the limit compiles', async () => {
  const tf = await tfReady;
  const long = chain(5000);
  const [d] = errors(long);
  assert.equal(d.nodeId, 'y');
  assert.match(d.message, /5,002 layers on its longest path.*over the limit of 2,000.*the path ending at node "y"/);
  // What the limit prevents: with it lifted, compiling overflows the stack.
  assert.throws(() => withEnvLimits('depth=1e9', () => compileGraph(tf, long)), RangeError);
  const atLimit = chain(DEFAULT_LIMITS.depth - 2);
  assert.equal(analyzeGraph(atLimit).size.depth, DEFAULT_LIMITS.depth);
  compileGraph(tf, atLimit).model.dispose();
});

test('parameter counts: exact for the standard layers, close for attention blocks; layer depths at least what tfjs builds', async () => {
  const tf = await tfReady;
  const wrong: string[] = [];
  for (const b of registry.all()) {
    if (b.type.startsWith('io.')) continue;
    for (const ex of b.examples) {
      const values = resolveParams(b, ex.params ?? {}).values;
      const g = exampleGraph(b, ex, { inputs: [...portsOf(b, values, 'inputs')], outputs: [...portsOf(b, values, 'outputs')] });
      const c = compileGraph(tf, g);
      const estimate = c.analysis.size.params;
      if (b.type.startsWith('core.') ? estimate !== c.params : c.params >= 100 && (estimate < c.params / 3 || estimate > c.params * 12))
        wrong.push(`${b.type} ${JSON.stringify(ex.params ?? {})}: ${estimate} parameters estimated, tfjs built ${c.params}`);
      // Longest chain of layers the block built (the Input layers are depth 0).
      const depth = new Map<string, number>();
      let deepest = 0;
      for (const layer of c.model.layers) {
        let d = 0;
        for (const node of layer.inboundNodes) for (const inbound of node.inboundLayers) d = Math.max(d, depth.get(inbound.name)! + 1);
        depth.set(layer.name, d);
        if (!g.nodes.some((n) => n.id === layer.name)) deepest = Math.max(deepest, d);
      }
      if (blockLayerDepth(b, values) < deepest)
        wrong.push(`${b.type} ${JSON.stringify(ex.params ?? {})}: ${blockLayerDepth(b, values)} layers deep in the table, tfjs built ${deepest}`);
      c.model.dispose();
    }
  }
  assert.deepEqual(wrong, []);
});

test('every template is within half of each limit, and the small ones estimate their parameters within a factor of two', async (t) => {
  const tf = await tfReady;
  for (const file of templateFiles({ large: true })) {
    const g = loadTemplate(file);
    const { size } = analyzeGraph(g);
    t.diagnostic(`${file}: ${JSON.stringify(size)}`);
    for (const key of ['nodes', 'params', 'activationBytes', 'depth'] as const)
      assert.ok(size[key] * 2 <= DEFAULT_LIMITS[key], `${file}: ${key} ${size[key]} of ${DEFAULT_LIMITS[key]}`);
  }
  for (const file of templateFiles()) {
    const c = compileGraph(tf, loadTemplate(file));
    const ratio = c.analysis.size.params / c.params;
    assert.ok(ratio >= 0.5 && ratio <= 2, `${file}: estimate ${c.analysis.size.params}, tfjs ${c.params}`);
    c.model.dispose();
  }
});

test('limits parse from text, and a bad one is a clear error', () => {
  assert.deepEqual(parseLimits('nodes=50000, params=2e8,activation=4GB,depth=3000'), { nodes: 50000, params: 2e8, activationBytes: 4 * 2 ** 30, depth: 3000 });
  assert.throws(() => parseLimits('nodes=lots'), /bad limit "nodes=lots": expected NAME=NUMBER/);
  assert.throws(() => parseLimits('__proto__=5'), /bad limit/);
  assert.throws(() => parseLimits('depth=0'), /bad limit/);
  // A bad ATTN_LIMITS is an error of the analysis, not an exception; the defaults hold.
  const a = withEnvLimits('nodes=', () => analyzeGraph(chain(2)));
  assert.match(a.diagnostics[0].message, /^ATTN_LIMITS: bad limit "nodes="/);
  assert.equal(a.limits.nodes, DEFAULT_LIMITS.nodes);
});

test('attn validate, export and train hold to the limits, which --limits sets; a bad --limits is a usage error', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-limits-'));
  const file = path.join(dir, 'wide.attn.json');
  writeFileSync(file, JSON.stringify(oneBlock('wide', 'core.dense', { units: 1e6 })));
  const refused = await attn('validate', file);
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /node "wide": error: the graph has 785,000,000 parameters/);
  assert.equal((await attn('validate', '--limits', 'params=1e9', file)).code, 0);
  assert.equal((await attn('--limits', 'params=1e9', 'validate', file)).code, 0);
  assert.equal((await attn('export', file, '--to', 'keras', '--limits', 'params=1e9')).code, 0);
  assert.equal((await attn('export', file, '--to', 'keras')).code, 1);
  const train = await attn('train', file, '--dataset', 'mnist', '--epochs', '1');
  assert.equal(train.code, 1);
  assert.match(train.stderr, /node "wide": error: the graph has 785,000,000 parameters/);
  const bad = await attn('validate', '--limits', 'params=many', file);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--limits: bad limit "params=many"/);
});

test('formatDiagnostic prints control characters and terminal escapes escaped', () => {
  const id = '\u001b[2J\u001b]0;owned\u0007x\ny\u202e';
  const text = formatDiagnostic({ severity: 'error', nodeId: id, port: 'p\u001b', message: `bad "${id}"` }, 'f\u001b.json');
  assert.equal(
    text,
    'f\\u001b.json node "\\u001b[2J\\u001b]0;owned\\u0007x\\u000ay\\u202e" port "p\\u001b": error: bad "\\u001b[2J\\u001b]0;owned\\u0007x\\u000ay\\u202e"',
  );
  assert.doesNotMatch(text, /[\u0000-\u001f\u007f-\u009f]/);
});

test('a graph file with a UTF-8 BOM loads; one that is not UTF-8, or not a file, gets a message naming it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-bytes-'));
  const text = JSON.stringify(loadTemplate('mlp.attn.json'), null, 2);
  const bom = path.join(dir, 'bom.attn.json');
  writeFileSync(bom, `\ufeff${text}`);
  assert.deepEqual((await loadGraphFile(bom)).diagnostics, []);
  const latin1 = path.join(dir, 'latin1.attn.json');
  writeFileSync(latin1, Buffer.concat([Buffer.from(text.slice(0, 40)), Buffer.from([0xe9]), Buffer.from(text.slice(40))]));
  const [d] = (await loadGraphFile(latin1)).diagnostics;
  assert.match(
    d.message,
    new RegExp(
      `^cannot read ${latin1.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: it is not UTF-8 text \\(the first invalid byte is at line 3, column \\d+\\); save it as UTF-8$`,
    ),
  );
  assert.equal(d.line, 3);
  assert.match((await loadGraphFile(dir)).diagnostics[0].message, /: it is a folder$/);
});
