// The host service, called as the transports call it: through `dispatch`, with
// untrusted requests, against real files in a temporary folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HostRequestError, parseHostRequest, type GraphLoad, type GraphWrite, type Recovery, type TemplateInfo } from '../common/host-api/api.js';
import { PathError } from '../electron/host/paths.js';
import type { Dialogs } from '../electron/host/service.js';
import { tinyGraph, withSandbox, type Sandbox } from './host-fixtures.js';

/** The paths of the recent-files list, newest first. */
const recentPaths = async (s: Sandbox) => ((await s.service.dispatch('recentFiles', {})) as { path: string }[]).map((x) => x.path);

test('a graph saved and opened again is the same graph, and the file is the canonical text', async () => {
  await withSandbox(async (s) => {
    const g = tinyGraph('round trip');
    const w = (await s.service.dispatch('saveFile', { path: 'models/a.attn.json', graph: g })) as GraphWrite;
    assert.deepEqual(w, { path: 'models/a.attn.json', written: true, diagnostics: [] });
    const text = await readFile(path.join(s.workspace, 'models', 'a.attn.json'), 'utf8');
    assert.equal(text, `${JSON.stringify(g, null, 2)}\n`);
    const r = (await s.service.dispatch('openFile', { path: 'models/a.attn.json' })) as GraphLoad;
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.graph, g);
    assert.equal(r.name, 'a');
    assert.deepEqual(await recentPaths(s), ['models/a.attn.json']);
  });
});

test('a broken file yields diagnostics and no graph; malformed JSON names line and column', async () => {
  await withSandbox(async (s) => {
    await writeFile(path.join(s.workspace, 'bad.attn.json'), '{\n  "format": "attention-studio.graph",\n  "nodes": [');
    const r = (await s.service.dispatch('readGraph', { path: 'bad.attn.json' })) as GraphLoad;
    assert.equal(r.graph, undefined);
    assert.equal(r.diagnostics.length, 1);
    assert.equal(r.diagnostics[0].line, 3);
    assert.match(r.diagnostics[0].message, /malformed JSON at line 3/);

    // Parsable but semantically wrong: the graph comes back with the diagnostic on the node.
    const g = tinyGraph();
    g.nodes[1].params = { units: -3 };
    await writeFile(path.join(s.workspace, 'units.attn.json'), JSON.stringify(g));
    const r2 = (await s.service.dispatch('readGraph', { path: 'units.attn.json' })) as GraphLoad;
    assert.ok(r2.graph);
    assert.deepEqual(
      r2.diagnostics.map((d) => [d.nodeId, d.param]),
      [['fc', 'units']],
    );

    const missing = (await s.service.dispatch('readGraph', { path: 'nope.attn.json' })) as GraphLoad;
    assert.equal(missing.diagnostics[0].message, 'cannot read nope.attn.json: no such file');
    assert.ok(!missing.diagnostics[0].message.includes(s.workspace), 'the absolute path stays on the host');
    // Files that could not be parsed are not remembered as recent.
    assert.deepEqual(await recentPaths(s), ['units.attn.json']);
  });
});

test('writing refuses what is not a graph and keeps the file untouched; semantic errors are saved', async () => {
  await withSandbox(async (s) => {
    const file = path.join(s.workspace, 'keep.attn.json');
    await s.service.dispatch('writeGraph', { path: 'keep.attn.json', graph: tinyGraph('original') });
    const before = await readFile(file, 'utf8');
    const w = (await s.service.dispatch('writeGraph', { path: 'keep.attn.json', graph: { format: 'something-else', nodes: 3 } })) as GraphWrite;
    assert.equal(w.written, false);
    assert.match(w.diagnostics[0].message, /not an Attention Studio graph file/);
    assert.equal(await readFile(file, 'utf8'), before);

    const wip = tinyGraph('work in progress');
    wip.edges.pop(); // the output is now unconnected
    const w2 = (await s.service.dispatch('writeGraph', { path: 'keep.attn.json', graph: wip })) as GraphWrite;
    assert.equal(w2.written, true);
    assert.ok(w2.diagnostics.some((d) => d.nodeId === 'y' && d.port === 'in'));
    assert.equal(JSON.parse(await readFile(file, 'utf8')).name, 'work in progress');
  });
});

test('browser mode keeps paths inside the workspace and writes only graph files', async () => {
  await withSandbox(async (s) => {
    const g = tinyGraph();
    for (const p of ['../escape.attn.json', '/etc/passwd', '/tmp/x.attn.json', 'a/../../b.attn.json'])
      await assert.rejects(s.service.dispatch('writeGraph', { path: p, graph: g }), PathError, p);
    await assert.rejects(s.service.dispatch('writeGraph', { path: 'notes.txt', graph: g }), /only graph files/);
    await assert.rejects(s.service.dispatch('readGraph', { path: '../state/recent.json' }), /outside the workspace/);
    // A symlink inside the workspace that points out of it is refused too.
    await symlink(s.root, path.join(s.workspace, 'out'));
    await assert.rejects(s.service.dispatch('writeGraph', { path: 'out/x.attn.json', graph: g }), /leads outside the workspace/);

    await s.service.dispatch('writeGraph', { path: 'sub/m.attn.json', graph: g });
    await writeFile(path.join(s.workspace, 'readme.txt'), 'not listed');
    const top = (await s.service.dispatch('listFiles', {})) as { dir: string; parent?: string; entries: { name: string; kind: string; path: string }[] };
    assert.equal(top.dir, '.');
    assert.equal(top.parent, undefined, 'no way up out of the workspace');
    // Symbolic links are not offered (the one here leads out); other files are not graphs.
    assert.deepEqual(
      top.entries.map((e) => [e.kind, e.path]),
      [['dir', 'sub']],
    );
    const sub = (await s.service.dispatch('listFiles', { dir: 'sub' })) as typeof top;
    assert.deepEqual(
      sub.entries.map((e) => [e.kind, e.path]),
      [['file', 'sub/m.attn.json']],
    );
    assert.equal(sub.parent, '.');
  });
});

test('requests are validated before the service sees them', async () => {
  await withSandbox(async (s) => {
    const bad: [unknown, unknown, RegExp][] = [
      ['rm -rf', {}, /unknown host method "rm -rf"/],
      ['constructor', {}, /unknown host method/],
      ['dispatch', {}, /unknown host method/],
      ['readGraph', {}, /bad request for readGraph: path/],
      ['readGraph', { path: 42 }, /path/],
      ['readGraph', { path: 'a.attn.json', extra: true }, /extra/],
      ['readGraph', { path: 'a\0.attn.json' }, /NUL/],
      ['saveFile', { path: 'a.attn.json', graph: 'not an object' }, /graph/],
      ['loadTemplate', { id: '../../etc/passwd' }, /id/],
      ['exportCode', { graph: tinyGraph(), target: 'cobol' }, /target/],
      ['startTraining', { graph: tinyGraph(), dataset: { name: 'mnist' }, config: { epochs: 0 } }, /config\.epochs/],
      ['startTraining', { graph: tinyGraph() }, /dataset/],
      ['startTraining', { graph: tinyGraph(), dataset: { name: 'mnist' }, backend: 'abacus' }, /backend/],
      ['pauseTraining', { runId: '../x' }, /runId/],
      ['info', { surprise: 1 }, /surprise/],
    ];
    for (const [method, req, why] of bad) {
      await assert.rejects(s.service.dispatch(method, req), (err: Error) => {
        assert.ok(err instanceof HostRequestError, `${String(method)}: ${err.message}`);
        assert.match(err.message, why);
        return true;
      });
    }
    // Defaults are filled in on the way through.
    const { request } = parseHostRequest<'startTraining'>('startTraining', { graph: tinyGraph(), dataset: { name: 'mnist' }, config: {} });
    assert.equal(request.config?.batchSize, 32);
    assert.equal(request.config?.optimizer, 'adam');
    assert.equal(request.backend, 'auto');
  });
});

test('templates are listed and load as new, unsaved graphs', async () => {
  await withSandbox(async (s) => {
    const list = (await s.service.dispatch('listTemplates', {})) as TemplateInfo[];
    assert.deepEqual(list, [{ id: 'tiny', name: 'Tiny template', description: undefined, nodes: 3, edges: 2 }]);
    const t = (await s.service.dispatch('loadTemplate', { id: 'tiny' })) as GraphLoad;
    assert.equal(t.path, null);
    assert.equal(t.graph?.nodes.length, 3);
    assert.deepEqual(t.diagnostics, []);
    await assert.rejects(s.service.dispatch('loadTemplate', { id: 'nope' }), /no template "nope"/);
  });
});

test('the recovery file is written, read back and cleared', async () => {
  await withSandbox(async (s) => {
    assert.equal(await s.service.dispatch('readRecovery', {}), null);
    await s.service.dispatch('writeRecovery', { graph: tinyGraph('unsaved'), path: 'a.attn.json' });
    const r = (await s.service.dispatch('readRecovery', {})) as Recovery;
    assert.equal(r.graph.name, 'unsaved');
    assert.equal(r.path, 'a.attn.json');
    assert.equal(r.dirty, true);
    assert.ok(Date.now() - Date.parse(r.savedAt) < 60_000);
    await s.service.dispatch('clearRecovery', {});
    assert.equal(await s.service.dispatch('readRecovery', {}), null);
  });
});

test('the desktop app opens and saves through its dialogs and takes absolute paths only', async () => {
  let offered = '';
  let answer: string | null = null;
  const dialogs: Dialogs = {
    openGraph: async () => answer,
    saveGraph: async (name) => ((offered = name), answer),
  };
  await withSandbox({ mode: 'desktop', dialogs }, async (s) => {
    const file = path.join(s.workspace, 'chosen.attn.json');
    answer = null;
    assert.equal(await s.service.dispatch('saveFileAs', { graph: tinyGraph('My net: v2') }), null, 'cancelled');
    assert.equal(offered, 'My net_ v2.attn.json');
    answer = file.replace(/\.attn\.json$/, ''); // the extension is added when the user leaves it off
    const w = (await s.service.dispatch('saveFileAs', { graph: tinyGraph('chosen') })) as GraphWrite;
    assert.equal(w.path, file);
    answer = file;
    const r = (await s.service.dispatch('openFile', {})) as GraphLoad;
    assert.equal(r.graph?.name, 'chosen');
    await assert.rejects(s.service.dispatch('readGraph', { path: 'relative.attn.json' }), /absolute path/);
    const info = (await s.service.dispatch('info', {})) as { mode: string; nativeDialogs: boolean; training: { available: boolean } };
    assert.equal(info.mode, 'desktop');
    assert.equal(info.nativeDialogs, true);
    assert.equal(info.training.available, false);
  });
});

test('the block catalogue lists every registered block with its ports and parameters', async () => {
  await withSandbox(async (s) => {
    const cat = (await s.service.dispatch('blockCatalogue', {})) as {
      type: string;
      inputs: unknown[];
      outputs: unknown[];
      params: Record<string, { type: string }>;
    }[];
    const dense = cat.find((b) => b.type === 'core.dense');
    assert.ok(dense);
    assert.equal(dense.params.units.type, 'int');
    assert.equal(new Set(cat.map((b) => b.type)).size, cat.length);
    assert.ok(cat.some((b) => b.type === 'io.input') && cat.some((b) => b.type === 'io.output'));
  });
});

test('training and export say why they are unavailable instead of failing obscurely', async () => {
  await withSandbox({ trainingUnavailable: 'no training process in this test' }, async (s) => {
    await assert.rejects(s.service.dispatch('startTraining', { graph: tinyGraph(), dataset: { name: 'mnist' } }), /no training process in this test/);
    await assert.rejects(s.service.dispatch('exportCode', { graph: tinyGraph(), target: 'keras' }), /export is not available/);
    assert.deepEqual(await s.service.dispatch('listRuns', {}), []);
  });
});
