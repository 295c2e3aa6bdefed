// A bad file never produces a stack trace: random damage to valid graphs gives
// diagnostics, never an exception; and a large valid graph analyses cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGraphText, serializeGraph } from '../engine/graph/schema.js';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import { residualStack } from './helpers/big-graph.js';
import { loadTemplate, templateFiles } from './helpers/graphs.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const junk = [null, -1, 0, 1e9, 2.5, '', 'x', true, [], {}, [1, 'a'], { node: 'x' }, 'core.add', NaN];

function damage(doc: unknown, r: () => number): void {
  // Walk to a random container and replace, delete or add a key.
  let cur = doc as Record<string, unknown>;
  for (let depth = 0; depth < 6; depth++) {
    const keys = Object.keys(cur);
    if (!keys.length) break;
    const k = keys[Math.floor(r() * keys.length)];
    const next = cur[k];
    if (next && typeof next === 'object' && r() < 0.7) {
      cur = next as Record<string, unknown>;
      continue;
    }
    // A copy: a shared junk object put in twice and then walked into could be made to contain itself.
    const pick = () => structuredClone(junk[Math.floor(r() * junk.length)]);
    const roll = r();
    if (roll < 0.4) cur[k] = pick();
    else if (roll < 0.7) delete cur[k];
    else cur[`${k}_${Math.floor(r() * 3)}`] = pick();
    return;
  }
}

test('randomly damaged graph files give diagnostics, never exceptions', () => {
  const r = rng(1234);
  const sources = templateFiles().map((f) => serializeGraph(loadTemplate(f)));
  let invalid = 0;
  for (let i = 0; i < 600; i++) {
    const doc = JSON.parse(sources[i % sources.length]);
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) damage(doc, r);
    let text = JSON.stringify(doc);
    if (i % 10 === 0) text = text.slice(0, Math.floor(r() * text.length));
    const parsed = parseGraphText(text);
    const diagnostics = parsed.graph ? analyzeGraph(parsed.graph).diagnostics : parsed.diagnostics;
    if (diagnostics.some((d) => d.severity === 'error')) invalid++;
    for (const d of diagnostics) assert.ok(d.message.length > 0 && !/\n\s+at /.test(d.message), d.message);
  }
  assert.ok(invalid > 300, `most damaged files are invalid (${invalid})`);
});

test('a 500-node graph gets a shape on every edge', () => {
  const g = residualStack(500);
  assert.equal(g.nodes.length, 500);
  const a = analyzeGraph(g);
  assert.deepEqual(a.diagnostics, []);
  assert.ok(a.edgeShapes.every((s) => s !== undefined));
  assert.deepEqual(a.nodes.get('y')!.inputShapes.in, [null, 32, 32, 16]);
});

test('one bad node leaves the others their shapes', () => {
  const g = residualStack(40);
  const bad = g.nodes.find((n) => n.id === 'c3b')!;
  bad.params = { filters: 8 }; // its add can no longer broadcast 8 with 16 channels
  const a = analyzeGraph(g);
  assert.deepEqual(
    a.diagnostics.map((d) => [d.nodeId, d.port]),
    [['add3', 'in2']],
  );
  assert.deepEqual(a.nodes.get('c3b')!.outputShapes!.out, [null, 32, 32, 8]);
  assert.match(a.diagnostics[0].message, /cannot broadcast \[\?, 32, 32, 8\] with \[\?, 32, 32, 16\]/);
  assert.equal(a.nodes.get('c4a')!.outputShapes, undefined, 'downstream of the failure: unknown, not wrong');
  assert.deepEqual(a.nodes.get('c2a')!.outputShapes!.out, [null, 32, 32, 16]);
});
