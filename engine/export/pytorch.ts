// Graph -> a PyTorch module file that reads like torchvision or timm: one
// nn.Module class per composite (named from its label), a composite's `repeat`
// as an nn.Sequential of copies, a `Model` whose forward returns logits where
// the loss allows (softmax in `predict()`), and a training entry point
// (`python model.py --data ...`) copied from engine/export/torch/.
import type { GraphFile } from '../graph/types.js';
import type { CodeHelper, TorchWeight } from '../blocks/contract.js';
import type { CompositeInfo, GraphAnalysis, NodeInfo, ScopeAnalysis } from '../shapes/analyze.js';
import { inlineGraph } from '../shapes/inline.js';
import { isSpatialMap, onlyPoolsItsInput } from '../shapes/feature-map.js';
import { outputLoss } from '../shapes/output-loss.js';
import { graphTrainingConfig } from '../graph/training-section.js';
import { indent, pyValue, torchShape } from '../blocks/emit/format.js';
import { docstring, NameTable, stringLiteral } from './names.js';
import { copyKeys, Units, walkScope, type ScopeAt, type ScopeNode, type Unit } from './structure.js';
import { analyzeForExport, ExportError } from './plan.js';
import { tokenSelections } from './token-selection.js';
import { torchHelperSource, torchRuntimeSource, torchSourceBody } from './torch-sources.js';
import { captionReportSource, pythonTopLevelNames } from './python-sources.js';
import { decodesCaptions } from './teacher-forcing.js';
import { torchFineTuningByModule } from './torch-fine-tune.js';
import { exportFineTuning } from './fine-tune-settings.js';

export interface PytorchExport {
  code: string;
  /** The attention outputs that `probes: true` records, in the compiled model's order. */
  attention: { nodeId: string; port: string }[];
  /** Where each tfjs weight goes in the module's state_dict. */
  weights: (TorchWeight & { nodeId: string; layer: string })[];
  /**
   * Per model output (in graph order): "logits" where forward() returns
   * pre-softmax scores (predict() applies the softmax, the loss is
   * F.cross_entropy), "values" where it returns the graph's own output.
   */
  outputs: ('logits' | 'values')[];
  /** The node output forward_features() returns (the default layer of the file's grad_cam()); absent where forward() is one method. */
  features?: { nodeId: string; port: string };
}

export interface PytorchExportOptions {
  /**
   * For training under PyTorch: when the module's `probing` attribute is set,
   * forward() also keeps the attention outputs in `self.probes` (a tuple, in the
   * compiled model's order); off, the module is the plain export.
   */
  probes?: boolean;
  /**
   * Training settings over the graph's own `training` section (a run's
   * config.json): the optimizer, rate and fine-tuning the script trains with.
   */
  training?: Record<string, unknown>;
  /** The dataset's preprocessing over the graph's `dataset.normalize` ('imagenet': the script's image folders get it). */
  normalize?: string;
}

const HEADER_IMPORTS = [
  'import argparse',
  'import json',
  'import math',
  'import os',
  'import struct',
  'import types',
  '',
  'import torch',
  'from torch import nn',
  'import torch.nn.functional as F',
];
/** Module-level names the file defines itself (and 'predict', Model's method); node and class names keep clear of these and the copied Python's. */
const OWN_NAMES = [
  'json',
  'struct',
  'types',
  'argparse',
  'os',
  'torch',
  'nn',
  'F',
  'compute_loss',
  'example_inputs',
  'TRAINING',
  'FINE_TUNING',
  'predict',
  'batches',
  'epochs',
  'probes',
  'probing',
  'block',
];

let reserved: string[] | undefined;
/** Every module-level name of an exported file: its own, and those that the copied runtime.py, explain.py and caption_report.py define. */
const reservedNames = (): string[] =>
  (reserved ??= [...new Set([...OWN_NAMES, ...[torchRuntimeSource(), torchSourceBody('explain.py'), captionReportSource()].flatMap(pythonTopLevelNames)])]);

function exampleInput(shape: (number | null)[], dtype: string, vocab?: number): string {
  const dims = torchShape(shape).map((d, i) => (i === 0 ? 2 : d));
  return dtype === 'int32' ? `torch.randint(0, ${vocab ?? 2}, (${dims.join(', ')}))` : `torch.randn(${dims.join(', ')})`;
}

/** Where the weights of a scope's nodes sit below the scope's module. */
interface Placement {
  leaves: Map<string, { name: string; torchWeights: TorchWeight[] }>;
  children: Map<string, { attr: string; repeated: boolean; inner: Placement }>;
}

/** One generated nn.Module class. */
interface ModuleClass extends Unit {
  text: string;
  placement: Placement;
  hasProbes: boolean;
}

interface ScopeCode {
  init: string[];
  body: string[];
  /** Where each node's statements start in `body`, in order. */
  starts: Map<string, number>;
  /** Output variables by node id and port. */
  vars: Map<string, Record<string, string>>;
  probes: string[];
  /** The length of `body` once the last probe is computed (probes come in body order). */
  probesEnd: number;
  placement: Placement;
}

/** Output ports the model returns as logits, by node id (top level only), with the softmax dim for predict(). */
type LogitPorts = Map<string, Record<string, number>>;

class TorchWriter {
  readonly helpers = new Map<string, CodeHelper>();
  readonly classes = new Units<ModuleClass>();

  constructor(
    private readonly graph: GraphFile,
    private readonly probes: boolean,
  ) {}

  /**
   * The forward code of one scope (the model, or one copy of a composite);
   * `logits` gives the ports whose softmax is left to predict().
   */
  scope(scope: ScopeAnalysis, at: ScopeAt, names: NameTable, logits?: LogitPorts, honoured?: LogitPorts): ScopeCode {
    const out: ScopeCode = {
      init: [],
      body: [],
      starts: new Map(),
      vars: new Map(),
      probes: [],
      probesEnd: 0,
      placement: { leaves: new Map(), children: new Map() },
    };
    const tokens = tokenSelections(scope);
    const tokenAt = new Map(tokens.map((t) => [t.at, t]));
    const quiet = new Set(tokens.flatMap((t) => t.skipped));
    out.vars = walkScope(this.graph, scope, at, names, {
      claim: (id, label, vars) => {
        const token = tokenAt.get(id);
        if (quiet.has(id) || token) out.placement.leaves.set(id, { name: '', torchWeights: [] }); // no weights
        if (quiet.has(id)) return null;
        if (!token) return undefined;
        const name = names.take(label);
        out.starts.set(id, out.body.length);
        out.body.push(`${name} = ${vars.get(token.from.node)![token.from.port]}[:, 0]  # token 0 (the graph: reshape to a T×1 image, 1×1 poolings, flatten)`);
        return { out: name };
      },
      node: (n) => {
        out.starts.set(n.id, out.body.length);
        if (n.info.composite) this.composite(n, out, names);
        else this.block(n, out, logits, honoured);
      },
    });
    return out;
  }

  private composite({ id, info: n, path, key, name, inputs, outputs }: ScopeNode, out: ScopeCode, names: NameTable): void {
    const cls = this.classFor(n, path, key);
    const repeated = n.copies!.length > 1;
    const args = n.composite!.inputs.map((p) => inputs[p.name]);
    const results = n.composite!.outputs.map((p) => outputs[p.name] ?? names.take(`${name}_${p.name}`));
    out.init.push(repeated ? `self.${name} = nn.Sequential(*(${cls.ref}() for _ in range(${n.copies!.length})))` : `self.${name} = ${cls.ref}()`);
    out.body.push(`${results.join(', ')} = self.${name}(${args.join(', ')})`);
    if (cls.hasProbes) {
      out.probes.push(repeated ? `*(p for block in self.${name} for p in block.probes)` : `*self.${name}.probes`);
      out.probesEnd = out.body.length;
    }
    out.placement.children.set(id, { attr: name, repeated, inner: cls.placement });
  }

  private block({ id, info: n, path, name, inputs, outputs }: ScopeNode, out: ScopeCode, logits?: LogitPorts, honoured?: LogitPorts): void {
    const emit = n.block.emit?.pytorch;
    if (!emit) throw new ExportError(`node "${path.join('/')}": the ${n.block.label} block (${n.block.type}) cannot be exported to pytorch yet`, path[0]);
    const wanted = logits?.get(id);
    let code;
    try {
      code = emit({
        params: n.params,
        inputShapes: n.inputShapes,
        outputShapes: n.outputShapes ?? {},
        inputs,
        outputs,
        name,
        layer: name,
        logits: wanted ? Object.keys(wanted) : undefined,
      });
    } catch (err) {
      throw new ExportError(`node "${path.join('/')}" (${n.block.label}): ${(err as Error).message}`, path[0]);
    }
    if (wanted && code.logits) honoured?.set(id, code.logits);
    for (const h of code.helpers ?? []) {
      const prior = this.helpers.get(h.name);
      if (prior && (prior.code !== h.code || prior.source !== h.source)) throw new Error(`two different helpers are named ${h.name}`);
      this.helpers.set(h.name, h);
    }
    out.init.push(...(code.init ?? []));
    out.body.push(...code.body);
    for (const p of n.outputs)
      if (p.attention) {
        out.probes.push(outputs[p.name]);
        out.probesEnd = out.body.length;
      }
    out.placement.leaves.set(id, { name, torchWeights: code.torchWeights ?? [] });
  }

  /** The class of a composite node; every copy of a repeat must give the same one. */
  private classFor(n: NodeInfo, path: string[], key: string): ModuleClass {
    const c = n.composite!;
    const keys = copyKeys(key, n.copies!.length);
    const [first, ...rest] = n.copies!.map((copy, i) => this.classText(c, copy, { compositeId: c.id, path, key: keys[i], bound: new Map() }));
    for (const other of rest)
      if (other.code !== first.code)
        throw new ExportError(`node "${path.join('/')}": the copies of this repeat differ, so they cannot share one PyTorch class`, path[0]);
    // Composites with the same code (say a stage's first block and its repeats) share one class.
    return this.classes.share(first);
  }

  private classText(c: CompositeInfo, copy: ScopeAnalysis, at: ScopeAt): Omit<ModuleClass, 'ref'> {
    const names = new NameTable('python', reservedNames());
    const single = c.inputs.length === 1;
    const bound = new Map(c.inputs.map((p) => [p.node, single ? 'x' : names.take(p.name)]));
    const code = this.scope(copy, { ...at, bound }, names);
    const results = c.outputs.map((p) => code.vars.get(p.node)!.out);
    const hasProbes = this.probes && code.probes.length > 0;
    const label = c.def.label?.trim() || c.id;
    const doc = docstring(c.def.doc ? `${label}: ${c.def.doc}` : `${label} (a composite block).`, '    ');
    const body = [
      '    def __init__(self):',
      '        super().__init__()',
      ...indent(code.init, '        '),
      '',
      `    def forward(self, ${[...bound.values()].join(', ')}):`,
      ...indent(code.body, '        '),
      ...(hasProbes ? [`        self.probes = (${code.probes.join(', ')},)`] : []),
      `        return ${results.join(', ')}`,
    ];
    const text = [`class \u0000self\u0000(nn.Module):`, ...doc, '', ...body].join('\n');
    return { label, text, code: body.join('\n'), placement: code.placement, hasProbes };
  }
}

/** The state_dict path of an inlined node: its instances' attributes (and copy indices), then its own. */
function modulePath(placement: Placement, path: string[], copy: number[]): string {
  const parts: string[] = [];
  let at = placement;
  path.forEach((id, i) => {
    if (i === path.length - 1) {
      const leaf = at.leaves.get(id);
      if (!leaf) throw new Error(`no placement for node "${path.join('/')}"`);
      parts.push(leaf.name);
      return;
    }
    const child = at.children.get(id)!;
    parts.push(child.attr);
    if (child.repeated) parts.push(String(copy[i] - 1));
    at = child.inner;
  });
  return parts.join('.');
}

/** Blocks that make up a classifier's head: what follows the features. */
const HEAD_BLOCKS = new Set([
  'core.classificationHead',
  'core.dense',
  'core.dropout',
  'core.flatten',
  'core.globalPool2d',
  'core.globalPool1d',
  'core.activation',
]);

/** Whether a node belongs to the head: a head block that no longer gives a spatial map, or a layer that only pools the map it is given. */
const inHead = (n: NodeInfo): boolean =>
  (HEAD_BLOCKS.has(n.block.type) && !isSpatialMap(Object.values(n.outputShapes ?? {})[0])) || onlyPoolsItsInput(n.block.type);

/**
 * The first statement of the model's head, as timm's forward_head: the trailing
 * chain of head nodes before a single output, each fed only by the one before;
 * undefined where the graph has no such chain (several inputs or outputs, no head).
 * The features end where Grad-CAM's default layer is (engine/shapes/feature-map.ts),
 * so that the export's grad_cam() without a layer weighs the same map as the app.
 */
function headStart(
  analysis: GraphAnalysis,
  top: ScopeCode,
  inputs: NodeInfo[],
  outputs: NodeInfo[],
): { at: number; input: string; features: { nodeId: string; port: string } } | undefined {
  if (inputs.length !== 1 || outputs.length !== 1) return undefined;
  const feeder = (n: NodeInfo) => analysis.edges[n.incoming.get('in')!]?.from;
  const consumers = (id: string) => analysis.edges.filter((e) => e.from.node === id).length;
  let from = feeder(outputs[0]);
  let first: NodeInfo | undefined;
  while (from) {
    const n = analysis.nodes.get(from.node)!;
    if (!inHead(n) || n.incoming.size !== 1 || consumers(n.id) !== 1) break;
    first = n;
    from = feeder(n);
  }
  if (!first || !from || analysis.nodes.get(from.node)!.block.type === 'io.input') return undefined;
  return { at: top.starts.get(first.id)!, input: top.vars.get(from.node)![from.port], features: { nodeId: from.node, port: from.port } };
}

const CROSS_ENTROPY = new Set(['categoricalCrossentropy', 'sparseCategoricalCrossentropy']);

function lossExpression(loss: string | null | undefined, pred: string, target: string, kind: 'logits' | 'values', dim: number): string | null {
  switch (loss) {
    case null:
    case undefined:
      return null;
    case 'meanSquaredError':
      return `F.mse_loss(${pred}, ${target})`;
    case 'meanAbsoluteError':
      return `F.l1_loss(${pred}, ${target})`;
    case 'binaryCrossentropy':
      return `F.binary_cross_entropy(${pred}.clamp(1e-7, 1 - 1e-7), ${target})`;
    default:
      // Class probabilities from the graph: log-probabilities are logits whose softmax gives them back.
      return kind === 'logits' ? `cross_entropy(${pred}, ${target}, dim=${dim})` : `cross_entropy(torch.log(${pred}.clamp_min(1e-12)), ${target}, dim=${dim})`;
  }
}

export function exportPytorch(graph: GraphFile, options: PytorchExportOptions = {}): PytorchExport {
  const analysis = analyzeForExport(graph);
  const outputNodes = analysis.order.map((id) => analysis.nodes.get(id)!).filter((n) => n.block.type === 'io.output');
  const inputNodes = analysis.order.map((id) => analysis.nodes.get(id)!).filter((n) => n.block.type === 'io.input');
  const losses = outputNodes.map((o) => outputLoss(graph, analysis, o.id));

  // Outputs trained with cross-entropy ask their source for logits.
  const wanted: LogitPorts = new Map();
  outputNodes.forEach((o, i) => {
    if (!CROSS_ENTROPY.has(losses[i] ?? '')) return;
    const e = graph.edges[o.incoming.get('in')!];
    const ports = wanted.get(e.from.node) ?? {};
    ports[e.from.port] = -1;
    wanted.set(e.from.node, ports);
  });
  const honoured: LogitPorts = new Map();

  const writer = new TorchWriter(graph, !!options.probes);
  const names = new NameTable('python', reservedNames());
  const top = writer.scope(analysis, { path: [], bound: new Map() }, names, wanted, honoured);

  const outputKinds = outputNodes.map((o) => {
    const e = graph.edges[o.incoming.get('in')!];
    const dim = honoured.get(e.from.node)?.[e.from.port];
    return { variable: top.vars.get(e.from.node)![e.from.port], kind: (dim === undefined ? 'values' : 'logits') as 'logits' | 'values', dim: dim ?? -1 };
  });
  const args = inputNodes.map((n) => top.vars.get(n.id)!.out);

  // Class names, now that every helper's name is known.
  const { names: resolved, named } = writer.classes.resolveNames('class', new Set(['Model', ...writer.helpers.keys()]));
  const classes = writer.classes.list.map((c, k) => named(c.text.replace('\u0000self\u0000', resolved[k])));

  const inputDocs = inputNodes.map((n) => {
    const s = torchShape(n.outputShapes!.out).map((d, i) => (i === 0 ? 'batch' : d));
    return `${top.vars.get(n.id)!.out}: [${s.join(', ')}]${n.outputs[0].dtype === 'int32' ? ' (token ids)' : ''}`;
  });
  const returned = outputKinds.map((o) => o.variable);
  const tuple = (xs: string[]) => (xs.length === 1 ? xs[0] : `(${xs.join(', ')})`);
  // With probes on, forward_features() keeps every attention output; where one comes from the head, forward() stays one method.
  const split = headStart(analysis, top, inputNodes, outputNodes);
  const probing = probeLinesWanted(options, top);
  const head = split && (!probing || top.probesEnd <= split.at) ? split : undefined;
  const probeLines = probing ? ['if getattr(self, "probing", False):', `    self.probes = (${top.probes.join(', ')},)`] : [];
  const logitsDoc = outputKinds.some((o) => o.kind === 'logits')
    ? " forward() returns logits (the loss is F.cross_entropy); predict() returns the graph's outputs, with the softmax."
    : '';
  const predicted = outputKinds.map((o, i) => {
    const y = outputKinds.length === 1 ? 'y' : `y[${i}]`;
    return o.kind === 'logits' ? `torch.softmax(${y}, dim=${o.dim})` : y;
  });

  const t = { ...graphTrainingConfig(graph.training), ...options.training };
  const settings = {
    optimizer: typeof t.optimizer === 'string' ? t.optimizer : 'adam',
    lr: typeof t.lr === 'number' ? t.lr : 1e-3,
    epochs: typeof t.epochs === 'number' ? t.epochs : 1,
    batch_size: typeof t.batchSize === 'number' ? t.batchSize : 32,
  };
  const normalize = options.normalize ?? graph.dataset?.normalize;
  const inlined = inlineGraph(graph, analysis);
  const weights = inlined.flatMap((n) => {
    const base = modulePath(top.placement, n.path, n.copy);
    let at = top.placement;
    n.path.slice(0, -1).forEach((id) => (at = at.children.get(id)!.inner));
    return at.leaves
      .get(n.path[n.path.length - 1])!
      .torchWeights.map((w) => ({ ...w, torch: `${base}.${w.torch}`, tfjs: w.tfjs.replaceAll('{layer}', n.layer), nodeId: n.key, layer: n.layer }));
  });
  const fineTuning = scriptFineTuning(
    t,
    weights,
    inlined.map((n) => n.key),
  );
  const lossTerms = outputNodes
    .map((o, i) => {
      const pred = outputNodes.length === 1 ? 'outputs' : `outputs[${i}]`;
      const target = outputNodes.length === 1 ? 'targets' : `targets[${i}]`;
      const e = lossExpression(losses[i], pred, target, outputKinds[i].kind, outputKinds[i].kind === 'logits' ? outputKinds[i].dim : -1);
      const weight = o.params.weight as number;
      return e && weight !== 0 ? (weight === 1 ? e : `${weight} * ${e}`) : null;
    })
    .filter((e): e is string => e !== null);

  const title = `${graph.name} (exported from Attention Studio).`;
  const captioner = decodesCaptions(writer.helpers.values());
  const lines = [
    ...docstring(`${title} ${graph.description ?? ''} Images are NCHW, as PyTorch expects. Train it with \`python ${'model.py'} --data DATA\` (see --help).`),
    '',
    ...HEADER_IMPORTS,
    '',
    ...[...writer.helpers.values()].flatMap((h) => ['', torchHelperSource(h).trimEnd(), '']),
    ...classes.flatMap((c) => ['', c, '']),
    '',
    'class Model(nn.Module):',
    ...docstring(`${graph.name}. Inputs: ${inputDocs.join('; ')}.${logitsDoc}`, '    '),
    '',
    '    def __init__(self):',
    '        super().__init__()',
    ...indent(top.init, '        '),
    '',
    ...(head
      ? [
          `    def forward_features(self, ${args.join(', ')}):`,
          ...indent(top.body.slice(0, head.at), '        '),
          ...indent(probeLines, '        '),
          `        return ${head.input}`,
          '',
          `    def forward_head(self, ${head.input}):`,
          ...indent(top.body.slice(head.at), '        '),
          `        return ${tuple(returned)}`,
          '',
          `    def forward(self, ${args.join(', ')}):`,
          `        return self.forward_head(self.forward_features(${args.join(', ')}))`,
        ]
      : [
          `    def forward(self, ${args.join(', ')}):`,
          ...indent(top.body, '        '),
          ...indent(probeLines, '        '),
          `        return ${tuple(returned)}`,
        ]),
    '',
    '    @torch.no_grad()',
    `    def predict(self, ${args.join(', ')}):`,
    '        """The graph\'s outputs (class probabilities where forward() gives logits), in eval mode."""',
    '        was_training = self.training',
    '        self.eval()',
    `        y = self(${args.join(', ')})`,
    '        self.train(was_training)',
    `        return ${tuple(predicted)}`,
    '',
    '',
    'def example_inputs():',
    '    """A batch of two random inputs of the right shapes."""',
    `    return (${inputNodes.map((n) => exampleInput(n.outputShapes!.out, n.outputs[0].dtype ?? 'float32', n.params.vocabSize as number)).join(', ')},)`,
    '',
    '',
    'def compute_loss(outputs, targets):',
    '    """The graph\'s training loss: targets are class indices for classification outputs, values otherwise."""',
    `    return ${lossTerms.join(' + ') || 'sum(y.sum() * 0 for y in (outputs if isinstance(outputs, tuple) else (outputs,)))'}`,
    '',
    '',
    ...(fineTuning ? [...FINE_TUNING_COMMENT, `FINE_TUNING = ${fineTuning}`, '', ''] : []),
    `TRAINING = ${pyDict(settings)}`,
    ...(normalize === 'imagenet' ? ['TRAINING["normalize"] = "imagenet"  # image folders: resize, centre crop, ImageNet mean and std'] : []),
    ...(fineTuning ? ['TRAINING["fine_tuning"] = FINE_TUNING'] : []),
    '',
    '',
    torchRuntimeSource().trimEnd(),
    '',
    '',
    torchSourceBody('explain.py').trimEnd(),
    '',
    '',
    ...(captioner ? [captionReportSource().trimEnd(), '', ''] : []),
    'if __name__ == "__main__":',
    `    main(Model, compute_loss, example_inputs, TRAINING${captioner ? ', report=report_captions' : ''})`,
    '',
  ];

  const attention = inlined.flatMap((n) => n.info.outputs.filter((p) => p.attention).map((p) => ({ nodeId: n.key, port: p.name })));
  return { code: named(lines.join('\n')), weights, attention, outputs: outputKinds.map((o) => o.kind), ...(head && { features: head.features }) };
}

const probeLinesWanted = (options: PytorchExportOptions, top: ScopeCode) => !!options.probes && top.probes.length > 0;

const FINE_TUNING_COMMENT = [
  "# Fine-tuning: the training settings' freeze, frozenBatchNorm and lrMultipliers, in this module's",
  '# names (a name stands for it and everything below it). main() applies them: frozen parameters get',
  '# no gradient, the listed BatchNorm modules stay in eval mode, and lrScale multiplies the rate.',
];

/** The script's FINE_TUNING dict, or undefined where the settings freeze nothing and scale no rate. */
function scriptFineTuning(t: Record<string, unknown>, weights: PytorchExport['weights'], nodeKeys: string[]): string | undefined {
  const f = torchFineTuningByModule(weights, exportFineTuning(t, nodeKeys));
  if (!f.frozen.length && !Object.keys(f.lrScale).length) return undefined;
  const list = (names: string[]) => (names.length ? `[\n${names.map((n) => `        ${stringLiteral(n)},\n`).join('')}    ]` : '[]');
  const scales = Object.entries(f.lrScale);
  return [
    '{',
    `    "frozen": ${list(f.frozen)},`,
    `    "batchNormEval": ${list(f.batchNormEval)},`,
    `    "lrScale": {${scales.map(([n, v]) => `${stringLiteral(n)}: ${pyValue(v)}`).join(', ')}},`,
    '}',
  ].join('\n');
}

const pyDict = (o: Record<string, unknown>) =>
  `{${Object.entries(o)
    .map(([k, v]) => `${stringLiteral(k)}: ${pyValue(v)}`)
    .join(', ')}}`;
