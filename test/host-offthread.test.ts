// Code export runs in a worker thread with a heap limit and a time limit: a
// small graph that expands to a huge export (composites nested five deep, each
// repeated ten times: 100,000 layers) fails with a clear message, and the host
// service keeps answering other calls meanwhile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExportResult, HostInfo } from '../common/host-api/api.js';
import { exportFiles, exportOffThread, offThreadExporter } from '../electron/host/exporter.js';
import type { GraphFile } from '../engine/graph/types.js';
import { cin, composite, cout, graphWith, use } from './helpers/composites.js';
import { sandbox, tinyGraph } from './host-fixtures.js';

/** Dense(4) in `levels` composites, each level repeating the one below ten times: 10^levels layers. */
function nested(levels: number): GraphFile {
  const defs = [
    composite(
      'c0',
      [cin('in'), ['fc', 'core.dense', { units: 4 }], cout('out')],
      [
        ['in.out', 'fc.in'],
        ['fc.out', 'out.in'],
      ],
    ),
  ];
  for (let k = 1; k < levels; k++)
    defs.push(
      composite(
        `c${k}`,
        [cin('in'), ['r', use(`c${k - 1}`), { repeat: 10 }], cout('out')],
        [
          ['in.out', 'r.in'],
          ['r.out', 'out.in'],
        ],
      ),
    );
  const top = use(`c${levels - 1}`);
  return graphWith(
    defs,
    [
      ['x', 'io.input', { kind: 'vector', features: 4 }],
      ['top', top, { repeat: 10 }],
      ['y', 'io.output'],
    ],
    [
      ['x.out', 'top.in'],
      ['top.out', 'y.in'],
    ],
    'nested',
  );
}

test('an export in the worker gives what the exporter gives on this thread', { timeout: 60_000 }, async () => {
  for (const target of ['tfjs', 'keras', 'pytorch'] as const) {
    const g = nested(2);
    assert.deepEqual(await exportOffThread({ graph: g, target }), await exportFiles(g, target), target);
  }
});

test('an export past the time limit or the heap limit is stopped with a message that says which', { timeout: 60_000 }, async (t0) => {
  // The graph limits refuse this graph before any export starts; lifted here, the worker's own limits are what stop it.
  process.env.ATTN_LIMITS = 'nodes=1000000000,params=1000000000000,activation=1000000GB,depth=1000000000';
  t0.after(() => delete process.env.ATTN_LIMITS);
  const g = nested(5);
  let t = performance.now();
  await assert.rejects(exportOffThread({ graph: g, target: 'tfjs' }, { timeoutMs: 1500, maxOldGenerationSizeMb: 1024 }), {
    message: 'the tfjs export of "nested" took longer than 1.5 s and was stopped; the graph expands to too much code (nested or repeated composites?)',
  });
  assert.ok(performance.now() - t < 5000, `stopped after ${performance.now() - t} ms`);
  t = performance.now();
  await assert.rejects(exportOffThread({ graph: g, target: 'pytorch' }, { timeoutMs: 50_000, maxOldGenerationSizeMb: 48 }), {
    message: 'the pytorch export of "nested" needed more than 48 MB and was stopped; the graph expands to too much code (nested or repeated composites?)',
  });
  // Bad targets and graphs the exporter refuses still say why.
  await assert.rejects(
    exportOffThread({ graph: { ...tinyGraph(), nodes: [] }, target: 'keras' }),
    (e: Error) => e.message.length > 0 && !/took longer|needed more/.test(e.message),
  );
});

test('while a huge export runs the host service answers other calls, and the export fails within its time limit', { timeout: 60_000 }, async () => {
  const s = await sandbox('browser', { exporter: offThreadExporter({ timeoutMs: 10_000, maxOldGenerationSizeMb: 1024 }) });
  try {
    const t0 = performance.now();
    const exporting = s.service.dispatch('exportCode', { graph: nested(5), target: 'tfjs' }).then(
      (r) => ({ r: r as ExportResult, ms: performance.now() - t0 }),
      (err: Error) => ({ err, ms: performance.now() - t0 }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const t1 = performance.now();
    const info = (await s.service.dispatch('info', {})) as HostInfo;
    assert.equal(info.mode, 'browser');
    await s.service.dispatch('listFiles', {});
    assert.ok(performance.now() - t1 < 3000, `info and listFiles took ${performance.now() - t1} ms while the export ran`);
    // Another export meanwhile has a worker of its own.
    const small = (await s.service.dispatch('exportCode', { graph: tinyGraph(), target: 'keras' })) as ExportResult;
    assert.match(small.files[0].content, /Dense/);
    const done = await exporting;
    assert.ok(done.ms < 15_000, `the export call ended after ${done.ms} ms`);
    // Stopped at the time limit, or refused by the analysis' size limits naming a composite: never a blocked server.
    if ('err' in done) assert.match(done.err.message, /took longer than 10 s and was stopped|needed more than 1024 MB and was stopped/);
    else
      assert.ok(
        done.r.files.length === 0 && done.r.diagnostics.some((d) => d.severity === 'error' && /c\d/.test(JSON.stringify(d))),
        JSON.stringify(done.r.diagnostics),
      );
  } finally {
    await s.cleanup();
  }
});
