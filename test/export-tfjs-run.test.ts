// The TypeScript export runs as a program under Node, as a user runs it after tsc:
// `node model.js --data data.npz` trains on the .npz that `attn export --data` writes,
// its loss falls, it saves a model tfjs loads, and without --data it prints its usage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { exportTfjs } from '../engine/export/tfjs.js';
import { writeDataFile } from '../engine/cli-export.js';
import { loadTemplate } from './helpers/graphs.js';

// Inside the project, so that `import * as tf from '@tensorflow/tfjs'` resolves.
const scratch = fileURLToPath(new URL('../../exports-under-test/', import.meta.url));

function exportedProgram(template: string): string {
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'run-'));
  const js = ts.transpileModule(exportTfjs(loadTemplate(template)), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  writeFileSync(join(dir, 'model.mjs'), js.outputText);
  return dir;
}

const node = (dir: string, ...args: string[]) => spawnSync(process.execPath, ['model.mjs', ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 24 });

test('node model.js --data trains the exported MLP on attn export --data output, and the loss falls', async () => {
  const dir = exportedProgram('mlp.attn.json');
  const n = await writeDataFile(loadTemplate('mlp.attn.json'), 'mnist', join(dir, 'data.npz'), 160);
  assert.ok(n.validation > 0);
  const r = node(dir, '--data', 'data.npz', '--epochs', '3', '--batch-size', '32', '--save', 'trained');
  assert.equal(r.status, 0, r.stderr);
  const losses = /training loss per epoch: (.*)/.exec(r.stdout)?.[1].split(' ').map(Number);
  assert.ok(losses && losses.length === 3, r.stdout);
  assert.ok(losses[2] < losses[0], `loss ${losses.join(' → ')} does not fall`);
  assert.match(r.stdout, /validation: loss \d/);
  assert.ok(existsSync(join(dir, 'trained', 'model.json')) && existsSync(join(dir, 'trained', 'weights.bin')));
});

test('node model.js without --data prints its usage; a wrong option or file is named', () => {
  const dir = exportedProgram('mnist-cnn.attn.json');
  const usage = node(dir);
  assert.equal(usage.status, 0, usage.stderr);
  assert.match(usage.stdout, /No --data given\.\nusage: node model\.js --data DATA\.npz/);
  const bad = node(dir, '--epoch', '2');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--epoch: not an option/);
  writeFileSync(join(dir, 'other.npz'), 'not a zip');
  const other = node(dir, '--data', 'other.npz');
  assert.equal(other.status, 1);
  assert.match(other.stderr, /other\.npz holds no arrays/);
});
