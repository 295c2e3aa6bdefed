// The TypeScript (tfjs) export passes our own compiler settings (strict,
// noImplicitOverride) for every block example and every template: the other
// export tests only transpile it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { registry } from '../engine/blocks/registry.js';
import { portsOf } from '../engine/blocks/contract.js';
import { resolveParams } from '../engine/blocks/params.js';
import { exportTfjs } from '../engine/export/tfjs.js';
import { exampleGraph, loadTemplate, templateFiles } from './helpers/graphs.js';

// Inside the project, so that `import * as tf from '@tensorflow/tfjs'` resolves.
const scratch = fileURLToPath(new URL('../../exports-under-test/', import.meta.url));

test('TypeScript exports type-check with strict and noImplicitOverride', () => {
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'tsc-'));
  const files: string[] = [];
  const add = (name: string, code: string) => {
    const file = join(dir, `${name.replace(/\W/g, '_')}.ts`);
    writeFileSync(file, code);
    files.push(file);
  };
  for (const block of registry.all()) {
    if (block.type === 'io.input' || block.type === 'io.output') continue;
    block.examples.forEach((ex, k) => {
      const { values } = resolveParams(block, ex.params as Record<string, unknown>);
      const ports = { inputs: [...portsOf(block, values, 'inputs')], outputs: [...portsOf(block, values, 'outputs')] };
      add(`${block.type}_${k + 1}`, exportTfjs(exampleGraph(block, ex as never, ports)));
    });
  }
  for (const f of templateFiles({ large: true })) add(f, exportTfjs(loadTemplate(f)));
  const program = ts.createProgram(files, {
    strict: true,
    noImplicitOverride: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${d.file.fileName.slice(dir.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  assert.ok(files.length > 100, `${files.length} exports`);
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} type errors`);
});
