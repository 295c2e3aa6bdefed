// The TypeScript (tfjs) export passes our own compiler settings (strict,
// noImplicitOverride) for every block example and every template: the other
// export tests only transpile it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportTfjs } from '../engine/export/tfjs.js';
import { strictTypeErrors, writeExports } from './helpers/exports.js';
import { blockExamples, isInnerBlock, loadTemplate, templateFiles } from './helpers/graphs.js';

// Inside the project, so that `import * as tf from '@tensorflow/tfjs'` resolves.
const scratch = fileURLToPath(new URL('../../exports-under-test/', import.meta.url));

test('TypeScript exports type-check with strict and noImplicitOverride', () => {
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'tsc-'));
  const files = writeExports(dir, 'ts', [
    ...blockExamples()
      .filter((e) => isInnerBlock(e.block))
      .map((e) => ({ name: e.name, code: exportTfjs(e.graph) })),
    ...templateFiles({ large: true }).map((f) => ({ name: f, code: exportTfjs(loadTemplate(f)) })),
  ]);
  const problems = strictTypeErrors(files, dir);
  assert.ok(files.length > 100, `${files.length} exports`);
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} type errors`);
});
