// Graph -> a PyTorch module file: `class Model(nn.Module)`, `example_inputs()`,
// a weight loader for trained weights, and a short training loop.
import type { GraphFile } from '../graph/types.js';
import { graphTrainingConfig } from '../graph/training-section.js';
import { commentText } from './names.js';
import { indent, torchShape } from '../blocks/emit/format.js';
import { planExport, type ExportPlan } from './plan.js';
import type { TorchWeight } from '../blocks/contract.js';

const HEADER_IMPORTS = ['import json', 'import math', 'import struct', '', 'import torch', 'from torch import nn', 'import torch.nn.functional as F'];

function docstring(text: string, pad = ''): string[] {
  const words = commentText(text).split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if ((line + ' ' + w).trim().length > 88 - pad.length) {
      lines.push(line.trim());
      line = '';
    }
    line += ` ${w}`;
  }
  if (line.trim()) lines.push(line.trim());
  if (lines.length === 1) return [`${pad}"""${lines[0]}"""`];
  return [`${pad}"""${lines[0]}`, ...lines.slice(1).map((l) => pad + l), `${pad}"""`];
}

function exampleInput(shape: (number | null)[], dtype: string, vocab?: number): string {
  const dims = torchShape(shape).map((d, i) => (i === 0 ? 2 : d));
  return dtype === 'int32' ? `torch.randint(0, ${vocab ?? 2}, (${dims.join(', ')}))` : `torch.randn(${dims.join(', ')})`;
}

const LOADER = `def load_weights(model, path):
    """Loads trained weights exported by Attention Studio (a safetensors file).

    The format is read with the standard library, so no extra package is needed.
    """
    with open(path, "rb") as f:
        (header_size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_size))
        data = f.read()
    state = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        start, end = info["data_offsets"]
        tensor = torch.frombuffer(bytearray(data[start:end]), dtype=torch.float32)
        state[key] = tensor.reshape(info["shape"])
    model.load_state_dict(state, strict=False)
    return model`;

export interface PytorchExport {
  code: string;
  /** The attention outputs that `probes: true` records, in the compiled model's order. */
  attention: { nodeId: string; port: string }[];
  /** Where each tfjs weight goes in the module's state_dict. */
  weights: (TorchWeight & { nodeId: string; layer: string })[];
}

function trainingSection(plan: ExportPlan): string[] {
  const t = graphTrainingConfig(plan.graph.training);
  const lr = typeof t.lr === 'number' ? t.lr : 1e-3;
  const epochs = typeof t.epochs === 'number' ? t.epochs : 1;
  const opt = t.optimizer === 'sgd' ? `torch.optim.SGD(model.parameters(), lr=${lr}, momentum=0.9)` : t.optimizer === 'adamw' ? `torch.optim.AdamW(model.parameters(), lr=${lr})` : `torch.optim.Adam(model.parameters(), lr=${lr})`;
  const lossLines = plan.outputs.map((o, i) => {
    const loss = o.loss;
    const target = plan.outputs.length === 1 ? 'target' : `target[${i}]`;
    const pred = plan.outputs.length === 1 ? 'pred' : `pred[${i}]`;
    const expr =
      loss === null
        ? null
        : loss === 'meanSquaredError'
          ? `F.mse_loss(${pred}, ${target})`
          : loss === 'meanAbsoluteError'
            ? `F.l1_loss(${pred}, ${target})`
            : loss === 'binaryCrossentropy'
              ? `F.binary_cross_entropy(${pred}, ${target})`
              : // the model outputs probabilities, as in the graph; targets are class indices
                `F.nll_loss(torch.log(${pred}.clamp_min(1e-7)).flatten(0, -2), ${target}.flatten())`;
    return expr ? `${o.lossWeight} * ${expr}` : null;
  });
  return [
    `def train(model, batches, epochs=${epochs}):`,
    `    """Trains with the graph's settings. \`batches\` yields (inputs, target) pairs: inputs as`,
    '    in example_inputs(), targets as class indices (or values, for regression outputs)."""',
    `    optimizer = ${opt}`,
    '    model.train()',
    '    for epoch in range(epochs):',
    '        for inputs, target in batches:',
    '            pred = model(*inputs)',
    `            loss = ${lossLines.filter(Boolean).join(' + ') || 'torch.zeros(())'}`,
    '            optimizer.zero_grad()',
    '            loss.backward()',
    '            optimizer.step()',
    '        print(f"epoch {epoch + 1}: loss {loss.item():.4f}")',
  ];
}

export interface PytorchExportOptions {
  /**
   * For training under PyTorch: when the module's \`probing\` attribute is set,
   * forward() also keeps the attention outputs in \`self.probes\` (the attention
   * panels' probes); off, the module is the plain export.
   */
  probes?: boolean;
}

export function exportPytorch(graph: GraphFile, options: PytorchExportOptions = {}): PytorchExport {
  const plan = planExport(graph, 'pytorch', ['json', 'struct', 'load_weights', 'train', 'batches', 'epochs']);
  const init = plan.nodes.flatMap((n) => n.code.init ?? []);
  const body = plan.nodes.flatMap((n) => n.code.body);
  const args = plan.inputs.map((n) => n.name);
  const results = plan.outputs.map((n) => n.inputs.in);
  const inputDocs = plan.inputs.map((n) => {
    const s = torchShape(n.info.outputShapes!.out).map((d, i) => (i === 0 ? 'batch' : d));
    return `${n.name}: [${s.join(', ')}]${n.info.outputs[0].dtype === 'int32' ? ' (token ids)' : ''}`;
  });
  const attention = plan.nodes.flatMap((n) => n.info.outputs.filter((p) => p.attention).map((p) => ({ nodeId: n.id, port: p.name, variable: n.outputs[p.name] })));
  const probeLines = options.probes && attention.length ? ['if getattr(self, "probing", False):', `    self.probes = (${attention.map((a) => a.variable).join(', ')},)`] : [];
  const title = `${graph.name} (exported from Attention Studio).`;
  const lines = [
    ...docstring(`${title} ${graph.description ?? ''} Images are NCHW, as PyTorch expects.`),
    '',
    ...HEADER_IMPORTS,
    '',
    ...plan.helpers.flatMap((h) => ['', h.code.trimEnd(), '']),
    '',
    'class Model(nn.Module):',
    ...docstring(`${graph.name}. Inputs: ${inputDocs.join('; ')}.`, '    '),
    '',
    '    def __init__(self):',
    '        super().__init__()',
    ...indent(init.length ? init : ['pass'], '        '),
    '',
    `    def forward(self, ${args.join(', ')}):`,
    ...indent(body, '        '),
    ...indent(probeLines, '        '),
    `        return ${results.length === 1 ? results[0] : `(${results.join(', ')})`}`,
    '',
    '',
    'def example_inputs():',
    '    """A batch of two random inputs of the right shapes."""',
    `    return (${plan.inputs.map((n) => exampleInput(n.info.outputShapes!.out, n.info.outputs[0].dtype ?? 'float32', n.info.params.vocabSize as number)).join(', ')},)`,
    '',
    '',
    LOADER,
    '',
    '',
    ...trainingSection(plan),
    '',
    '',
    'if __name__ == "__main__":',
    '    model = Model()',
    '    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)',
    '    print(f"{n_params:,} trainable parameters")',
    '    with torch.no_grad():',
    '        out = model(*example_inputs())',
    '    for y in out if isinstance(out, tuple) else (out,):',
    '        print(tuple(y.shape))',
    '',
  ];
  const weights = plan.nodes.flatMap((n) =>
    (n.code.torchWeights ?? []).map((w) => ({ ...w, torch: `${n.name}.${w.torch}`, nodeId: n.id, layer: n.layer })),
  );
  return { code: lines.join('\n'), weights, attention: attention.map(({ nodeId, port }) => ({ nodeId, port })) };
}
