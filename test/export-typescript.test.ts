// The TypeScript (tfjs) export passes our own compiler settings (strict,
// noImplicitOverride) for every block example and every template: the other
// export tests only transpile it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportTfjs } from '../engine/export/tfjs.js';
import { scratchDir, typeCheck, writeExports } from './helpers/exports.js';
import { blockExamples, isInnerBlock, loadTemplate, templateFiles } from './helpers/graphs.js';

test('TypeScript exports type-check with strict and noImplicitOverride', () => {
  const dir = scratchDir('tsc-');
  const files = writeExports(dir, 'ts', [
    ...blockExamples()
      .filter((e) => isInnerBlock(e.block))
      .map((e) => ({ name: e.name, code: exportTfjs(e.graph) })),
    ...templateFiles({ large: true }).map((f) => ({ name: f, code: exportTfjs(loadTemplate(f)) })),
  ]);
  const problems = typeCheck(files, dir);
  assert.ok(files.length > 100, `${files.length} exports`);
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} type errors`);
});
