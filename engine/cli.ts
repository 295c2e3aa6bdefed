// The `attn` command: validate, summarise and list blocks from the terminal.
import { Command, CommanderError } from 'commander';
import { loadGraphFile } from './shapes/load.js';
import { formatDiagnostic, hasErrors, printable } from './graph/types.js';
import { registry } from './blocks/registry.js';
import type { Shape } from './blocks/contract.js';
import { loadTf } from './backends/load-tf.js';
import { compileGraph } from './compile/compile.js';
import { inlineGraph } from './shapes/inline.js';
import { fmtShape } from './blocks/shape-rules.js';
import { blockInfo } from './blocks/catalogue.js';
import { LIMITS_ENV, parseLimits } from './shapes/limits.js';

type Out = { log: (s: string) => void; err: (s: string) => void };
const std: Out = { log: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) };

async function validate(files: string[], opts: { json?: boolean }, out: Out): Promise<number> {
  let bad = 0;
  for (const file of files) {
    const r = await loadGraphFile(file);
    const ok = !hasErrors(r.diagnostics);
    if (!ok) bad++;
    if (opts.json) out.log(JSON.stringify({ file, ok, diagnostics: r.diagnostics }));
    else if (ok && r.diagnostics.length === 0) out.log(`${printable(file)}: ok (${r.graph!.nodes.length} nodes, ${r.graph!.edges.length} edges)`);
    else {
      for (const d of r.diagnostics) out.log(formatDiagnostic(d, file));
      out.log(`${printable(file)}: ${ok ? 'ok with warnings' : `${r.diagnostics.filter((d) => d.severity === 'error').length} error(s)`}`);
    }
  }
  return bad ? 1 : 0;
}

async function summary(file: string, opts: { json?: boolean }, out: Out): Promise<number> {
  const r = await loadGraphFile(file);
  if (hasErrors(r.diagnostics) || !r.graph) {
    for (const d of r.diagnostics) out.err(formatDiagnostic(d, file));
    return 1;
  }
  const tf = await loadTf();
  const c = compileGraph(tf, r.graph);
  type Row = { id: string; type: string; outputShapes: Record<string, Shape>; params: number };
  const inlined = inlineGraph(r.graph, c.analysis);
  const nodes = c.analysis.order.map((id) => {
    const n = c.analysis.nodes.get(id)!;
    const row: Row & { repeat?: number; inner?: Row[] } = {
      id,
      type: n.block.type,
      outputShapes: n.outputShapes ?? {},
      params: c.nodeParams.get(id)?.params ?? 0,
    };
    if (n.composite) {
      row.repeat = n.params.repeat as number;
      // The blocks inside, by inlined key ("stage1#2/conv2"), in the order they are built.
      row.inner = inlined
        .filter((x) => x.path.length > 1 && x.path[0] === id)
        .map((x) => ({ id: x.key, type: x.info.block.type, outputShapes: x.info.outputShapes ?? {}, params: c.innerParams.get(x.key)?.params ?? 0 }));
    }
    return row;
  });
  if (opts.json) out.log(JSON.stringify({ params: c.params, trainableParams: c.trainableParams, nodes }));
  else {
    out.log(`${printable(r.graph.name)}: ${c.params.toLocaleString('en')} parameters (${c.trainableParams.toLocaleString('en')} trainable)`);
    const cells = (n: Row, indent: string, type = n.type) => [
      indent + n.id,
      type,
      Object.entries(n.outputShapes)
        .map(([p, s]) => `${p} ${fmtShape(s)}`)
        .join(', ') || '—',
      n.params.toLocaleString('en'),
    ];
    const rows = nodes
      .flatMap((n) => [cells(n, '', n.repeat && n.repeat > 1 ? `${n.type} ×${n.repeat}` : n.type), ...(n.inner ?? []).map((x) => cells(x, '  '))])
      .map((r) => r.map(printable));
    const head = ['node', 'type', 'outputs', 'params'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const row of [head, ...rows]) out.log(row.map((c, i) => (i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  '));
  }
  tf.disposeVariables();
  return 0;
}

function blocks(opts: { json?: boolean }, out: Out): number {
  const categories = [...new Set(registry.all().map((b) => b.category))];
  const all = categories.flatMap((c) => registry.all().filter((b) => b.category === c));
  if (opts.json) {
    out.log(JSON.stringify(all.map(blockInfo), null, 2));
    return 0;
  }
  let category = '';
  for (const b of all) {
    if (b.category !== category) out.log(`\n${(category = b.category)}`);
    const info = blockInfo(b);
    const params = Object.entries(info.params).map(([k, d]) => {
      const range = 'options' in d ? d.options.join('|') : 'min' in d || 'max' in d ? `${d.min ?? ''}..${d.max ?? ''}` : d.type;
      return `${k}=${JSON.stringify(d.default)} (${range})`;
    });
    out.log(`  ${b.type.padEnd(28)} ${b.label}`);
    out.log(
      `    in: ${info.inputs.map((p) => p.name).join(', ') || '—'}   out: ${info.outputs.map((p) => p.name + (p.attention ? ` [${p.attention}]` : '')).join(', ') || '—'}`,
    );
    if (params.length) out.log(`    params: ${params.join(', ')}`);
  }
  return 0;
}

/** Runs the command with argv (without node and script); returns the exit code. */
export async function main(argv: string[], out: Out = std): Promise<number> {
  let code = 0;
  const program = new Command()
    .name('attn')
    .description('Attention Studio on the command line: check, summarise and list model graphs (*.attn.json).')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out.log(s.trimEnd()), writeErr: (s) => out.err(s.trimEnd()) })
    .option('--limits <limits>', `graph size limits, e.g. nodes=50000,params=5e8,activation=4GB,depth=3000 (also ${LIMITS_ENV})`)
    // Through the environment, so that every analysis in this command (compile, export, summary) and the training process it starts hold to them.
    .hook('preAction', (cmd) => {
      const limits = cmd.opts<{ limits?: string }>().limits;
      if (limits === undefined) return;
      try {
        parseLimits(limits);
      } catch (err) {
        cmd.error(`attn: --limits: ${(err as Error).message}`, { exitCode: 2 });
      }
      process.env[LIMITS_ENV] = [process.env[LIMITS_ENV], limits].filter(Boolean).join(',');
    });
  program
    .command('validate')
    .description('check graph files; exit 1 if any has an error')
    .argument('<files...>', 'graph files')
    .option('--json', 'one JSON object per file')
    .action(async (files: string[], o) => void (code = await validate(files, o, out)));
  program
    .command('summary')
    .description('per-node output shapes and parameter counts (composite nodes: with the blocks inside them)')
    .argument('<file>', 'graph file')
    .option('--json', 'print JSON')
    .action(async (file: string, o) => void (code = await summary(file, o, out)));
  program
    .command('blocks')
    .description('the block catalogue')
    .option('--json', 'print JSON')
    .action((o) => void (code = blocks(o, out)));
  (await import('./cli-train.js')).registerTrainCommand(program, out, (c) => void (code = c));
  (await import('./cli-export.js')).registerExportCommand(program, out, (c) => void (code = c));
  (await import('./cli-weights.js')).registerWeightsCommands(program, out, (c) => void (code = c));
  (await import('./cli-sweep.js')).registerSweepCommands(program, out, (c) => void (code = c));
  (await import('./cli-explain.js')).registerExplainCommand(program, out, (c) => void (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    out.err(`attn: ${(err as Error).message}`);
    return 1;
  }
  return code;
}
