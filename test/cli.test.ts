// The `attn` command, run as a user runs it: the bin script in a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { templatesDir } from './helpers/graphs.js';
import { attn, brokenDir } from './helpers/cli.js';

test('validate: valid templates exit 0', async () => {
  const r = await attn('validate', `${templatesDir}mnist-cnn.attn.json`, `${templatesDir}mlp.attn.json`);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /mnist-cnn\.attn\.json: ok \(10 nodes, 9 edges\)/);
});

test('validate: a broken file names the node and the problem and exits 1', async () => {
  const r = await attn('validate', `${brokenDir}param-out-of-range.attn.json`);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /param-out-of-range\.attn\.json node "c": error: parameter "kernel" must be between 1 and 64 \(got 0\)/);
  assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
});

test('validate --json: one object per file', async () => {
  const r = await attn('validate', '--json', `${templatesDir}mlp.attn.json`, `${brokenDir}cycle.attn.json`, `${brokenDir}malformed-json.attn.json`);
  assert.equal(r.code, 1);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 3);
  assert.deepEqual(
    lines.map((l) => l.ok),
    [true, false, false],
  );
  assert.deepEqual(lines[0].diagnostics, []);
  assert.deepEqual(
    lines[1].diagnostics.map((d: { nodeId: string }) => d.nodeId),
    ['a', 'c'],
  );
  assert.equal(lines[2].diagnostics[0].line, 5);
});

test('usage errors exit 2', async () => {
  assert.equal((await attn('validate')).code, 2);
  assert.equal((await attn('frobnicate')).code, 2);
  assert.equal((await attn('summary', '--bogus', 'x')).code, 2);
});

test('summary --json reports the parameter count tfjs counts', async () => {
  const r = await attn('summary', '--json', `${templatesDir}mnist-cnn.attn.json`);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.params, 105866);
  assert.equal(s.trainableParams, 105866);
  const conv2 = s.nodes.find((n: { id: string }) => n.id === 'conv2');
  assert.deepEqual(conv2, { id: 'conv2', type: 'core.conv2d', outputShapes: { out: [null, 14, 14, 32] }, params: 4640 });
  assert.equal(
    s.nodes.reduce((a: number, n: { params: number }) => a + n.params, 0),
    s.params,
  );
});

test('summary of a broken file exits 1 with the diagnostic', async () => {
  const r = await attn('summary', `${brokenDir}rank-mismatch.attn.json`);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /node "c" port "in": error: input "in" needs rank 4/);
});

test('blocks --json lists the catalogue with ports, params and docs', async () => {
  const r = await attn('blocks', '--json');
  assert.equal(r.code, 0);
  const blocks = JSON.parse(r.stdout) as { type: string; doc: string; params: Record<string, { default: unknown }>; outputs: { name: string }[] }[];
  const conv = blocks.find((b) => b.type === 'core.conv2d')!;
  assert.equal(conv.params.filters.default, 32);
  assert.ok(conv.doc.length > 50);
  assert.ok(blocks.length >= 10);
  const text = await attn('blocks');
  assert.match(text.stdout, /core\.conv2d\s+Conv2D/);
});
