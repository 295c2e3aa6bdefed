// Hostile and fuzzed graph files through everything a user can point at one:
// validate, summary, export to every target, compile. Nothing may crash, hang,
// grow the heap without bound, or speak of a node without naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../engine/cli.js';
import { serializeGraph } from '../engine/graph/schema.js';
import { hostileCorpus, probeGraphFile, unnamedNode, type HostileCase } from './helpers/hostile-graphs.js';
import { mutateGraphText } from './helpers/graph-mutator.js';
import { loadTemplate, templateFiles } from './helpers/graphs.js';
import { attn } from './helpers/cli.js';
import { tfReady } from './helpers/tf.js';

/** Generous, for a loaded machine: the unbounded cases took minutes and gigabytes before the limits. */
const MAX_MS = 15_000;
const MAX_HEAP = 1.5 * 2 ** 30;

const dir = mkdtempSync(path.join(tmpdir(), 'attn-hostile-'));
const corpus = hostileCorpus();
const fileOf = (c: HostileCase) => path.join(dir, `${c.name.replace(/[^A-Za-z0-9]+/g, '-')}.attn.json`);
for (const c of corpus) writeFileSync(fileOf(c), c.content);

/** Runs `attn` in this process with its output captured. */
async function attnHere(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(args, { log: (s) => void (out += `${s}\n`), err: (s) => void (out += `${s}\n`) });
  return { code, out };
}

for (const c of corpus) {
  test(`hostile graph: ${c.name}`, async () => {
    const r = await probeGraphFile(fileOf(c), { tf: await tfReady });
    assert.equal(r.crash, undefined);
    assert.ok(r.ms < MAX_MS, `${r.ms.toFixed(0)} ms`);
    assert.ok(r.heapUsed < MAX_HEAP, `heap ${(r.heapUsed / 2 ** 20).toFixed(0)} MB`);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(r.diagnostics.filter(unnamedNode), []);
    if ('valid' in c.expect) {
      assert.deepEqual(errors, []);
      assert.ok(r.compiled && r.exported > 0, 'a valid graph compiles and exports');
    } else if ('node' in c.expect) {
      assert.ok(
        errors.some((d) => d.nodeId === (c.expect as { node: string }).node),
        JSON.stringify(errors.map((d) => [d.nodeId, d.message.slice(0, 200)])),
      );
    } else {
      assert.ok(errors.length > 0 && errors.every((d) => d.nodeId === undefined));
      assert.ok(
        errors.some((d) => c.expect && 'file' in c.expect && c.expect.file.test(d.message)),
        errors.map((d) => d.message.slice(0, 200)).join('\n'),
      );
    }
    if (c.message)
      assert.ok(
        errors.some((d) => c.message!.test(d.message)),
        errors.map((d) => d.message.slice(0, 300)).join('\n'),
      );
    for (const d of errors) assert.ok(d.message.length < 2000, `a message of ${d.message.length} characters`);
    // Nothing that reached Object.prototype.
    assert.equal(({} as Record<string, unknown>).polluted, undefined);

    // attn summary: a summary or the diagnostics, escaped, never an exception.
    const s = await attnHere('summary', fileOf(c));
    assert.equal(s.code, errors.length ? 1 : 0, s.out.slice(0, 500));
    assert.doesNotMatch(s.out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  });
}

test('attn validate on hostile files: exit 1, every line escaped and naming the file', async () => {
  const picked = corpus.filter((c) => /nested repeats|terminal escapes in an id|invalid UTF-8|__proto__|BOM/.test(c.name));
  const r = await attn('validate', ...picked.map(fileOf));
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  for (const line of r.stdout.trim().split('\n'))
    assert.ok(
      picked.some((c) => line.startsWith(fileOf(c))),
      line,
    );
  assert.match(r.stdout, /node "\\u001b\[2J\\u001b\[31mevil\\u0007" port "in": error: required input "in"/);
  assert.match(r.stdout, /BOM\.attn\.json: ok/);
});

test('200 mutated templates: no crash, no hang, no unnamed node', async (t) => {
  const tf = await tfReady;
  const sources = templateFiles().map((f) => serializeGraph(loadTemplate(f)));
  const stats = { cases: 0, valid: 0, compiled: 0, maxMs: 0, maxHeapMB: 0 };
  for (let seed = 1; seed <= 200; seed++) {
    const { text, mutations } = mutateGraphText(sources[seed % sources.length], seed);
    const file = path.join(dir, `fuzz-${seed}.attn.json`);
    writeFileSync(file, text);
    // Compiling is the slow part: every fifth valid case.
    const r = await probeGraphFile(file, { tf: seed % 5 === 0 ? tf : undefined });
    const what = `seed ${seed} (${mutations.join(', ')})`;
    assert.equal(r.crash, undefined, what);
    assert.ok(r.ms < MAX_MS, `${what}: ${r.ms.toFixed(0)} ms`);
    assert.ok(r.heapUsed < MAX_HEAP, `${what}: heap ${(r.heapUsed / 2 ** 20).toFixed(0)} MB`);
    assert.deepEqual(r.diagnostics.filter(unnamedNode), [], what);
    stats.cases++;
    if (r.valid) stats.valid++;
    if (r.compiled) stats.compiled++;
    stats.maxMs = Math.max(stats.maxMs, Math.round(r.ms));
    stats.maxHeapMB = Math.max(stats.maxHeapMB, Math.round(r.heapUsed / 2 ** 20));
  }
  t.diagnostic(JSON.stringify(stats));
  // The mutator must damage most files, and leave some valid (so export and compile are reached).
  assert.ok(stats.valid >= 5 && stats.valid < 180, JSON.stringify(stats));
});
