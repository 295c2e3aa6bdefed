// The corpus of broken graph files: each gives exactly the expected diagnostics,
// on the expected node and port, through the same path the CLI and editor use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadGraphFile } from '../engine/shapes/load.js';
import type { Diagnostic } from '../engine/graph/types.js';

const dir = fileURLToPath(new URL('../../test/fixtures/broken/', import.meta.url));

type Expect = Pick<Diagnostic, 'nodeId' | 'port' | 'param' | 'line' | 'column'> & { message: string };

const expected: Record<string, Expect[]> = {
  'malformed-json': [{ line: 5, column: 38, message: 'malformed JSON at line 5, column 38: Expected double-quoted property name' }],
  'wrong-format': [{ message: 'not an Attention Studio graph file: "format" is "keras-model", expected "attention-studio.graph"' }],
  'newer-version': [{ message: 'this file is format version 7, made by a newer Attention Studio; this version reads up to version 2' }],
  'nodes-not-list': [{ message: 'nodes: must be a list of nodes' }],
  'node-missing-type': [{ nodeId: 'c', message: 'nodes[1] ("c").type: must be a string' }],
  'unknown-type': [{ nodeId: 'c', message: 'unknown block type "core.conv2" (did you mean "core.conv2d"?)' }],
  'param-out-of-range': [{ nodeId: 'c', param: 'kernel', message: 'parameter "kernel" must be between 1 and 64 (got 0)' }],
  'param-mistyped': [{ nodeId: 'c', param: 'filters', message: 'parameter "filters" must be an integer (got "32")' }],
  'param-unknown': [
    { nodeId: 'c', param: 'filter', message: 'unknown parameter "filter" (known: filters, kernel, stride, padding, pads, dilation, useBias, activation)' },
  ],
  'param-bad-enum': [{ nodeId: 'c', param: 'padding', message: 'parameter "padding" must be one of same, valid, explicit (got "full")' }],
  'duplicate-id': [{ nodeId: 'c', message: 'duplicate node id "c": every node needs its own id' }],
  'edge-missing-node': [{ nodeId: 'x', port: 'out', message: 'edge x.out → ghost.in goes to missing node "ghost"' }],
  'edge-missing-port': [
    { nodeId: 'c', port: 'input', message: 'edge x.out → c.input: "c" (Conv2D) has no input port "input" (inputs: in)' },
    { nodeId: 'c', port: 'in', message: 'required input "in" of "c" (Conv2D) is not connected' },
  ],
  'two-edges-one-port': [{ nodeId: 'c', port: 'in', message: 'input "in" has two incoming edges (from x.out and x2.out); an input takes one' }],
  cycle: [
    { nodeId: 'a', message: 'node "a" is part of a cycle (a → c → a); a model graph must be acyclic' },
    { nodeId: 'c', message: 'node "c" is part of a cycle (c → a → c); a model graph must be acyclic' },
  ],
  'unconnected-input': [{ nodeId: 'a', port: 'in2', message: 'required input "in2" of "a" (Add) is not connected' }],
  'no-input': [{ nodeId: 'd', port: 'in', message: 'required input "in" of "d" (Dense) is not connected' }, { message: 'the graph has no Input node' }],
  'no-output': [{ message: 'the graph has no Output node: wire the last block into an Output' }],
  'rank-mismatch': [{ nodeId: 'c', port: 'in', message: 'input "in" needs rank 4 (batch included), but the incoming tensor is [?, 20] (rank 2)' }],
  'broadcast-mismatch': [{ nodeId: 'a', port: 'in2', message: 'cannot broadcast [?, 8, 8, 3] with [?, 8, 8, 4]: axis 3 is 3 vs 4' }],
  'too-small': [{ nodeId: 'c', port: 'in', message: 'output height would be 0: the input is too small' }],
};

test('every broken fixture has an expectation and vice versa', () => {
  const files = readdirSync(dir).map((f) => f.replace(/\.attn\.json$/, ''));
  assert.deepEqual(files.sort(), Object.keys(expected).sort());
});

for (const [name, want] of Object.entries(expected)) {
  test(`broken file ${name}: exact diagnostics on the exact node`, async () => {
    const r = await loadGraphFile(`${dir}${name}.attn.json`);
    const got = r.diagnostics.map(({ nodeId, port, param, line, column, message }) =>
      Object.fromEntries(Object.entries({ nodeId, port, param, line, column, message }).filter(([, v]) => v !== undefined)),
    );
    assert.deepEqual(got, want);
    assert.ok(r.diagnostics.every((d) => d.severity === 'error'));
  });
}

test('a missing file is a diagnostic, not a throw', async () => {
  const r = await loadGraphFile(`${dir}does-not-exist.attn.json`);
  assert.equal(r.diagnostics.length, 1);
  assert.match(r.diagnostics[0].message, /cannot read .*does-not-exist\.attn\.json: no such file/);
});
