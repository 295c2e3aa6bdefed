// The house rules of DESIGN.md and house.json, read from the code's own imports:
// every TS/TSX source file is parsed (static imports and re-exports, import(),
// require()) and each import is checked against the layer it leaves and the one it
// enters. A broken rule fails with the file, the import and the reason.
//
// Type-only imports carry no code: they are free of the "no tfjs / no Node / no
// training code in the renderer" rules, but not of the engine's one-way stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_DIRS = ['engine', 'common', 'electron', 'renderer', 'bench', 'scripts', 'test'];
const SKIP_DIRS = new Set(['node_modules', 'fixtures', 'dist']);

interface Import {
  file: string;
  spec: string;
  /** A repository file (posix path from the root), or undefined for a package. */
  target?: string;
  /** The package a bare specifier names (`@scope/name` or `name`), or `node:x` for built-ins. */
  pkg?: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) {
      if (!SKIP_DIRS.has(name)) out.push(...sourceFiles(rel));
    } else if (/\.(ts|tsx|cts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

const NODE_BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')));

function resolveRelative(from: string, spec: string): string | undefined {
  const base = join(dirname(from), spec).split(sep).join('/');
  const stem = base.replace(/\.(c|m)?js$/, '');
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.cts`, `${stem}.mts`, `${base}/index.ts`];
  return candidates.find((c) => existsSync(join(root, c)) && statSync(join(root, c)).isFile());
}

function packageOf(spec: string): string {
  if (spec.startsWith('node:')) return spec;
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return NODE_BUILTINS.has(name) ? `node:${name}` : name;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(root, file), 'utf8');
  const kind = file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, kind);
  const found: Import[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    const relative = spec.startsWith('.');
    const target = relative ? resolveRelative(file, spec) : undefined;
    if (relative && !target && !/\.(css|svg|png|html|json)$/.test(spec)) throw new Error(`${file}: cannot resolve import '${spec}'`);
    found.push({ file, spec, typeOnly, ...(relative ? { target } : { pkg: packageOf(spec) }) });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node.moduleSpecifier.text, node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      add(node.moduleReference.expression.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0])) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isImport || isRequire) add(node.arguments[0].text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

// ------------------------------------------------------------------ layers

type Layer =
  | 'schemas'
  | 'graph'
  | 'blocks'
  | 'shapes'
  | 'compile'
  | 'export'
  | 'train'
  | 'runs'
  | 'pytorch'
  | 'weights'
  | 'explain'
  | 'worker'
  | 'sweep'
  | 'cli'
  | 'common'
  | 'shell'
  | 'ui'
  | 'tooling';

/**
 * Folders to layers, as house.json draws them (engine/data and engine/backends belong to Train).
 * engine/schemas is on no part of the house: the Node-free vocabularies (training settings,
 * training events, dataset requests, backends, inspections) that the engine, the host and the
 * renderer (through common/host-api) all name; it sits below everything and imports only zod.
 */
function layerOf(file: string): Layer {
  const rules: [RegExp, Layer][] = [
    [/^engine\/schemas\//, 'schemas'],
    [/^engine\/graph\//, 'graph'],
    [/^engine\/blocks\//, 'blocks'],
    [/^engine\/shapes\//, 'shapes'],
    [/^engine\/compile\//, 'compile'],
    [/^engine\/export\//, 'export'],
    [/^engine\/(train|data|backends)\//, 'train'],
    [/^engine\/runs\//, 'runs'],
    [/^engine\/pytorch\//, 'pytorch'],
    [/^engine\/weights\//, 'weights'],
    [/^engine\/explain\//, 'explain'],
    [/^engine\/worker\//, 'worker'],
    [/^engine\/sweep\//, 'sweep'],
    [/^engine\/cli[^/]*\.ts$/, 'cli'],
    [/^common\//, 'common'],
    [/^electron\//, 'shell'],
    [/^renderer\/src\//, 'ui'],
  ];
  return rules.find(([re]) => re.test(file))?.[1] ?? 'tooling';
}

/**
 * The engine's one-way stack: what each layer may import (itself included).
 * graph -> blocks -> shapes -> compile -> train -> worker -> cli; export beside
 * compile (shapes, blocks and graph only). Shape inference runs every block's
 * shape rule, so engine/shapes stands on the blocks; the helpers those rules
 * share are the blocks' own (blocks/shape-rules.ts); the run folder below train; the PyTorch
 * backend above train and export, driven by the worker.
 */
const MAY_IMPORT: Partial<Record<Layer, readonly Layer[]>> = {
  schemas: ['schemas'],
  graph: ['schemas', 'graph'],
  blocks: ['schemas', 'graph', 'blocks'],
  shapes: ['schemas', 'graph', 'blocks', 'shapes'],
  compile: ['schemas', 'graph', 'blocks', 'shapes', 'compile'],
  export: ['schemas', 'graph', 'blocks', 'shapes', 'export'],
  runs: ['schemas', 'graph', 'blocks', 'shapes', 'runs'],
  train: ['schemas', 'graph', 'blocks', 'shapes', 'compile', 'runs', 'train'],
  // The PyTorch backend trains what the exporter writes (one code path), so it stands above export.
  pytorch: ['schemas', 'graph', 'blocks', 'shapes', 'compile', 'export', 'runs', 'train', 'pytorch'],
  // Pretrained weights in: the export's weight names, mapped back onto the compiled model, into a run folder.
  weights: ['schemas', 'graph', 'blocks', 'shapes', 'compile', 'export', 'runs', 'train', 'weights'],
  // Explanations of a trained model: compiled models, data and the run folder's colour map.
  explain: ['schemas', 'graph', 'blocks', 'shapes', 'compile', 'runs', 'train', 'explain'],
  worker: ['schemas', 'graph', 'blocks', 'shapes', 'compile', 'runs', 'train', 'pytorch', 'explain', 'worker'],
  // Sweeps drive training processes, as the CLI and the host do.
  sweep: ['schemas', 'graph', 'blocks', 'shapes', 'runs', 'train', 'worker', 'sweep'],
  cli: ['schemas', 'graph', 'blocks', 'shapes', 'compile', 'export', 'runs', 'train', 'pytorch', 'weights', 'explain', 'worker', 'sweep', 'cli'],
  common: ['schemas', 'graph', 'blocks', 'shapes', 'common'],
  ui: ['schemas', 'graph', 'blocks', 'shapes', 'common', 'ui'],
};

/** Why a layer must not import another: house.json's "never" list, in its words. */
const NEVER_BECAUSE: Partial<Record<`${Layer}->${Layer}`, string>> = {
  'graph->compile': 'shape checks run in the renderer without tfjs',
  'shapes->compile': 'shape checks run in the renderer without tfjs',
  'blocks->export': 'blocks say what to emit; exporters assemble it',
  'blocks->train': 'a block knows nothing of training',
  'ui->shell': 'the renderer reaches the host only through common/ HostApi',
  'ui->train': 'no training code in the renderer',
  'ui->worker': 'the renderer never starts processes',
  'ui->compile': 'compilation happens in the training process',
};

/**
 * Imports that break a rule today, each with the issue that removes it. A new one
 * fails; so does one that no longer happens (remove it here).
 */
const KNOWN: { file: string; target: string; why: string }[] = [
  // The PNG codec serves both the image datasets (decode) and the run folder's heat maps (encode); it belongs in a codec module below both.
  { file: 'engine/runs/heatmap.ts', target: 'engine/data/png.ts', why: 'PNG codec shared with datasets (#15)' },
  { file: 'engine/runs/run-folder.ts', target: 'engine/data/png.ts', why: 'PNG codec shared with datasets (#15)' },
  // The graph file's types name Shape (a node's inferred output), which the block contract defines.
  { file: 'engine/graph/types.ts', target: 'engine/blocks/contract.ts', why: 'Shape belongs below the contract (#15)' },
  // Reading a graph file from disk (CLI, host); the renderer never loads this module (the bundle test below proves it).
  { file: 'engine/shapes/load.ts', target: 'node:fs/promises', why: 'file reading belongs above shapes/' },
];
/** What an import names: a repository file or a package. */
const named = (i: Import) => i.target ?? i.pkg;

const TFJS = /^@tensorflow\//;
/** Packages that load only in Node (native code, sockets, the command line). */
const NODE_ONLY = new Set(['ws', 'commander', 'electron', 'onnxruntime-node', 'webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']);
const BROWSER_ONLY = new Set(['react', 'react-dom', '@xyflow/react', 'uplot', 'zustand']);
const isNodeOnly = (pkg: string) => pkg.startsWith('node:') || NODE_ONLY.has(pkg);

function violation(imp: Import): string | undefined {
  const from = layerOf(imp.file);
  const inEngine = imp.file.startsWith('engine/');
  if (imp.pkg) {
    if (inEngine && (BROWSER_ONLY.has(imp.pkg) || imp.pkg === 'electron')) return 'the engine is free of DOM, React and Electron';
    if (from === 'schemas' && imp.pkg !== 'zod') return 'engine/schemas holds the vocabularies everyone loads: zod only';
    if (imp.typeOnly) return undefined;
    if ((from === 'graph' || from === 'blocks' || from === 'shapes') && TFJS.test(imp.pkg))
      return `engine/graph, engine/blocks and engine/shapes never import tfjs at module level (the renderer imports them; take \`tf\` as an argument or import types only)`;
    if ((from === 'graph' || from === 'blocks' || from === 'shapes') && isNodeOnly(imp.pkg))
      return 'engine/graph, engine/blocks and engine/shapes load in the renderer: no Node-only modules';
    if ((from === 'ui' || from === 'common') && isNodeOnly(imp.pkg)) return 'the renderer (and common/, which it loads) never imports Node or Electron modules';
    return undefined;
  }
  const target = imp.target!;
  const to = layerOf(target);
  if (from === 'common' && (to === 'shell' || to === 'ui')) return 'common/ is shared by the renderer and the shell: it imports neither';
  if (from === 'ui' && to === 'shell') return NEVER_BECAUSE['ui->shell'];
  if (from === 'ui' && target.startsWith('engine/') && imp.typeOnly) return undefined;
  // common/ may name the rest of the engine's types, but not training's nor the training process's: the renderer loads common/ (house.json: never Ui -> Train, Ui -> Worker).
  if (from === 'common' && target.startsWith('engine/') && imp.typeOnly && !['compile', 'train', 'worker'].includes(to)) return undefined;
  if (inEngine && !target.startsWith('engine/')) return 'the engine imports nothing outside engine/';
  const allowed = MAY_IMPORT[from];
  if (!allowed || allowed.includes(to)) return undefined;
  return (
    NEVER_BECAUSE[`${from}->${to}`] ??
    `${from} sits below ${to} in the one-way stack (graph -> blocks -> shapes -> compile -> train -> worker; export beside compile)`
  );
}

const files = SOURCE_DIRS.filter((d) => existsSync(join(root, d))).flatMap(sourceFiles);
const imports = files.flatMap(importsOf);
const show = (i: Import) => `${i.file} imports '${i.spec}'`;

test('the sources were found and parsed', () => {
  assert.ok(files.length > 200, `only ${files.length} source files found under ${root}`);
  assert.ok(
    files.some((f) => f.endsWith('.tsx')),
    'no .tsx file found',
  );
  assert.ok(
    imports.some((i) => i.file === 'renderer/src/App.tsx' && i.target === 'renderer/src/editor.ts'),
    'the import parser missed a known import',
  );
});

test('every import keeps the house rules', () => {
  const known = new Set(KNOWN.map((k) => `${k.file} -> ${k.target}`));
  const broken = imports
    .filter((i) => !known.has(`${i.file} -> ${named(i)}`))
    .map((i) => [i, violation(i)] as const)
    .filter(([, why]) => why)
    .map(([i, why]) => `${show(i)}: ${why}`);
  assert.deepEqual(broken, [], `${broken.length} import(s) break the layering:\n  ${broken.join('\n  ')}`);
});

test('every known exception still happens (remove the ones that were fixed)', () => {
  const stale = KNOWN.filter((k) => !imports.some((i) => i.file === k.file && named(i) === k.target && violation(i)));
  assert.deepEqual(stale, []);
});

test('what the renderer loads is free of Node, Electron and tfjs-node', () => {
  // Follow value imports from every renderer file: the page bundle is their closure.
  const byFile = new Map<string, Import[]>();
  for (const i of imports) byFile.set(i.file, [...(byFile.get(i.file) ?? []), i]);
  const via = new Map<string, string>();
  const queue = files.filter((f) => layerOf(f) === 'ui');
  for (const f of queue) via.set(f, f);
  const broken: string[] = [];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const i of byFile.get(file) ?? []) {
      if (i.typeOnly) continue;
      if (i.pkg && isNodeOnly(i.pkg)) broken.push(`${show(i)} (loaded by the renderer through ${via.get(file)})`);
      if (i.target && !via.has(i.target)) {
        via.set(i.target, via.get(file)!);
        queue.push(i.target);
      }
      if (i.target && layerOf(i.target) === 'shell') broken.push(`${show(i)} (loaded by the renderer through ${via.get(file)})`);
    }
  }
  assert.deepEqual(broken, [], `the renderer's bundle would load Node-only code:\n  ${broken.join('\n  ')}`);
});

test('the engine compiles without DOM types', () => {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), (p) => readFileSync(p, 'utf8')).config as { compilerOptions: { lib: string[] } };
  const dom = config.compilerOptions.lib.filter((l) => /^dom/i.test(l));
  assert.deepEqual(dom, [], 'tsconfig.json (engine, shell, tests) must not include DOM types: the engine knows no screen');
});

test('no import cycle spans more than two files', () => {
  // Tarjan's strongly connected components over every import between repository files.
  const edges = new Map<string, string[]>();
  for (const i of imports) if (i.target) edges.set(i.file, [...(edges.get(i.file) ?? []), i.target]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const connect = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  };
  for (const f of files) if (!index.has(f)) connect(f);
  const large = components.filter((c) => c.length > 2).map((c) => c.sort().join(', '));
  assert.deepEqual(large, [], `import cycles over more than two files:\n  ${large.join('\n  ')}`);
});
