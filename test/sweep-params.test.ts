// The sweep's --param syntax, its checks against a graph, the trials each
// strategy draws, the early-stopping rules, and the graph diff runs are compared by.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GraphFile } from '../engine/graph/types.js';
import { diffGraphs, isEmptyDiff } from '../engine/graph/diff.js';
import { applyToGraph, checkParams, parseParam, parseParams, shouldStop, SweepParamError, trialValues } from '../engine/sweep/index.js';

const seCnn = (): GraphFile => JSON.parse(readFileSync(fileURLToPath(new URL('../../templates/bench-se-cnn.attn.json', import.meta.url)), 'utf8')) as GraphFile;

test('--param: lists, float ranges (log, grid points) and whole-number ranges', () => {
  assert.deepEqual(parseParam('se.reduction=2,8'), {
    text: 'se.reduction=2,8',
    key: 'se.reduction',
    target: { kind: 'node', nodeId: 'se', param: 'reduction' },
    domain: { kind: 'choice', values: [2, 8] },
  });
  assert.deepEqual(parseParam('lr=1e-3:1e-2:log').domain, { kind: 'float', lo: 0.001, hi: 0.01, log: true, points: 3 });
  assert.deepEqual(parseParam('lr=1e-4:1e-2:log:5').domain, { kind: 'float', lo: 0.0001, hi: 0.01, log: true, points: 5 });
  assert.deepEqual(parseParam('attn.heads=1..8:log').domain, { kind: 'int', lo: 1, hi: 8, log: true });
  assert.deepEqual(parseParam('optimizer=adam,sgd').target, { kind: 'training', key: 'optimizer' });
  assert.deepEqual(parseParam('block.v2.flag=true,false'), {
    text: 'block.v2.flag=true,false',
    key: 'block.v2.flag',
    target: { kind: 'node', nodeId: 'block.v2', param: 'flag' },
    domain: { kind: 'choice', values: [true, false] },
  });
});

test('--param: each syntax error names the --param and what is wrong', () => {
  const refused = (text: string, why: RegExp) =>
    assert.throws(
      () => parseParam(text),
      (err: Error) => err instanceof SweepParamError && err.message.startsWith(`--param '${text}': `) && why.test(err.message),
      text,
    );
  refused('se.reduction', /no "="/);
  refused('lr=', /no values after "="/);
  refused('lr=1e-2:1e-3', /range 0.01:0.001 is empty/);
  refused('lr=0:1:log', /:log range needs bounds above 0/);
  refused('lr=1e-3:abc', /upper bound "abc" is not a number/);
  refused('lr=1e-3:1e-2:lg', /"lg" after the range is neither "log" nor a number/);
  refused('heads=1.5..4', /must be whole numbers/);
  refused('heads=8..2', /range 8..2 is empty/);
  refused('se.reduction=2,,8', /empty value/);
  refused('se.reduction=2,2', /listed twice/);
  refused('se.=2', /not node.param/);
  assert.throws(() => parseParams(['lr=1,2', 'lr=3']), /--param 'lr=3': "lr" is swept by another --param too/);
  assert.throws(() => parseParams([]), /no --param given/);
});

test('--param against the graph: unknown node, unknown parameter, wrong type, out of range, unknown setting', () => {
  const g = seCnn();
  const refused = (text: string, why: RegExp) =>
    assert.throws(
      () => checkParams(parseParams([text]), g),
      (err: Error) => err instanceof SweepParamError && why.test(err.message),
      text,
    );
  refused('se9.reduction=2,8', /the graph has no node "se9" \(its nodes: image, conv1, pool1, conv2, se,/);
  refused('se.ratio=2,8', /node "se" \(attention.squeezeExcitation\) has no parameter "ratio" \(its parameters: reduction/);
  refused('se.reduction=0,8', /node "se" \(attention.squeezeExcitation\) parameter reduction 0 is below its minimum 1/);
  refused('se.reduction=2.5,8', /parameter reduction needs a whole number, not 2.5/);
  refused('se.reduction=2:8', /reduction is a whole number: use lo..hi/);
  refused('conv1.padding=same,full', /parameter padding "full" is not one of/);
  refused('learningrate=1e-3,1e-2', /"learningrate" is neither node.param nor a training setting \(epochs, batchSize, optimizer, lr,/);
  refused('lr=-1,1e-2', /training setting lr: -1 is refused/);
  refused('epochs=1:4', /training setting epochs takes whole numbers: use lo..hi/);
  checkParams(parseParams(['se.reduction=2,8', 'lr=1e-3:1e-2:log', 'conv1.filters=8..16']), g);
});

test("grid: every combination, the first parameter slowest; a trial's values set on its graph only", () => {
  const params = parseParams(['se.reduction=2,8', 'lr=1e-3:1e-2:log:3']);
  const trials = trialValues(params, 'grid', { seed: 0 });
  assert.deepEqual(trials, [
    { 'se.reduction': 2, lr: 0.001 },
    { 'se.reduction': 2, lr: 0.003162 },
    { 'se.reduction': 2, lr: 0.01 },
    { 'se.reduction': 8, lr: 0.001 },
    { 'se.reduction': 8, lr: 0.003162 },
    { 'se.reduction': 8, lr: 0.01 },
  ]);
  assert.equal(trialValues(params, 'grid', { seed: 0, trials: 4 }).length, 4);
  const g = seCnn();
  const g8 = applyToGraph(g, params, trials[3]);
  assert.equal(g8.nodes.find((n) => n.id === 'se')!.params.reduction, 8);
  assert.equal(g.nodes.find((n) => n.id === 'se')!.params.reduction, 4, 'the base graph is left alone');
});

test('random: the same seed draws the same trials, inside the ranges; another seed others', () => {
  const params = parseParams(['lr=1e-4:1e-1:log', 'conv1.filters=4..64', 'se.reduction=2,4,8']);
  const a = trialValues(params, 'random', { seed: 7, trials: 50 });
  assert.deepEqual(a, trialValues(params, 'random', { seed: 7, trials: 50 }));
  assert.notDeepEqual(a, trialValues(params, 'random', { seed: 8, trials: 50 }));
  for (const t of a) {
    assert.ok((t.lr as number) >= 1e-4 && (t.lr as number) <= 1e-1, `lr ${t.lr}`);
    assert.ok(Number.isInteger(t['conv1.filters']) && (t['conv1.filters'] as number) >= 4 && (t['conv1.filters'] as number) <= 64);
    assert.ok([2, 4, 8].includes(t['se.reduction'] as number));
  }
  // Log-uniform: about as many below 1e-2.5 as above.
  const low = a.filter((t) => (t.lr as number) < 10 ** -2.5).length;
  assert.ok(low > 12 && low < 38, `${low} of 50 below the log midpoint`);
  assert.throws(() => trialValues(params, 'random', { seed: 0 }), /--strategy random needs --trials N/);
});

test('median stopping: a trial below the median of its peers at the same epoch stops; not before the grace epoch, not at its last', () => {
  const scores = new Map([
    ['a', [0.5, 0.7]],
    ['b', [0.6, 0.8]],
    ['c', [0.2]],
  ]);
  assert.equal(shouldStop('median', scores, 'c', 5), true, 'best 0.2 < median of 0.5, 0.6');
  assert.equal(shouldStop('median', new Map([...scores, ['c', [0.9]]]), 'c', 5), false);
  assert.equal(shouldStop('median', scores, 'c', 1), false, 'its last epoch: nothing to save');
  assert.equal(
    shouldStop(
      'median',
      new Map([
        ['a', [0.5]],
        ['c', [0.2]],
      ]),
      'c',
      5,
    ),
    false,
    'one peer is too few',
  );
  assert.equal(shouldStop('none', scores, 'c', 5), false);
  assert.equal(shouldStop('median', scores, 'c', 5, { grace: 2, minPeers: 2, eta: 3 }), false, 'inside the grace epochs');
});

test('successive halving: at a rung only the top third goes on; the first to arrive always does', () => {
  assert.equal(shouldStop('halving', new Map([['a', [0.1]]]), 'a', 9), false);
  const rung1 = new Map([
    ['a', [0.9]],
    ['b', [0.8]],
    ['c', [0.3]],
  ]);
  assert.equal(shouldStop('halving', rung1, 'c', 9), true);
  assert.equal(shouldStop('halving', rung1, 'a', 9), false);
  assert.equal(
    shouldStop(
      'halving',
      new Map([
        ['a', [0.9, 0.9]],
        ['c', [0.1, 0.1]],
      ]),
      'c',
      9,
    ),
    false,
    'epoch 2 is no rung',
  );
});

test('graph diff: parameters changed, nodes and edges added and removed; positions do not count', () => {
  const a = seCnn();
  const b = structuredClone(a);
  b.nodes.find((n) => n.id === 'se')!.params.reduction = 8;
  b.nodes.find((n) => n.id === 'conv1')!.position = { x: 1, y: 1 };
  assert.deepEqual(diffGraphs(a, b), {
    added: [],
    removed: [],
    changed: [{ id: 'se', params: [{ param: 'reduction', before: 4, after: 8 }] }],
    edgesAdded: [],
    edgesRemoved: [],
  });
  const seIn = b.edges.find((e) => e.to.node === 'se')!;
  const seOut = b.edges.find((e) => e.from.node === 'se')!;
  b.nodes = b.nodes.filter((n) => n.id !== 'se');
  b.edges = b.edges.filter((e) => e !== seIn && e !== seOut).concat({ from: seIn.from, to: seOut.to });
  const d = diffGraphs(a, b);
  assert.deepEqual(d.removed, [{ id: 'se', type: 'attention.squeezeExcitation' }]);
  assert.deepEqual(d.edgesAdded, [`conv2.${seIn.from.port} -> pool2.${seOut.to.port}`]);
  assert.equal(d.edgesRemoved.length, 2);
  assert.ok(isEmptyDiff(diffGraphs(a, structuredClone(a))));
});
