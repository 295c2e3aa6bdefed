// Graph -> a TypeScript module on tfjs: `export function buildModel(): tf.LayersModel`
// with the attention blocks as custom layer classes, a training function, and the
// data reader and command line of engine/export/tfjs/runtime.ts (`node model.js --data`).
import type { GraphFile } from '../graph/types.js';
import { graphTrainingConfig } from '../graph/training-section.js';
import { commentText, stringLiteral } from './names.js';
import { indent } from '../blocks/emit/format.js';
import { planExport } from './plan.js';
import { tfjsHelperNames, tfjsHelperSources, tfjsRuntimeSource } from './tfjs-sources.js';

const LOSS: Record<string, string> = {
  categoricalCrossentropy: "'categoricalCrossentropy'",
  sparseCategoricalCrossentropy: "'sparseCategoricalCrossentropy'",
  binaryCrossentropy: "'binaryCrossentropy'",
  meanSquaredError: "'meanSquaredError'",
  meanAbsoluteError: "'meanAbsoluteError'",
};

export function exportTfjs(graph: GraphFile): string {
  const plan = planExport(graph, 'tfjs', [
    'tf',
    'buildModel',
    'train',
    'model',
    'xs',
    'ys',
    'epochs',
    'batchSize',
    'validationData',
    'main',
    'readNpz',
    'parseNpy',
    'arraysOf',
    'targets',
    'split',
    'saveModel',
    'USAGE',
    'LOSSES',
    'TRAINING',
    'Training',
    'Train',
    'process',
    ...tfjsHelperNames(),
  ]);
  const t = graphTrainingConfig(graph.training);
  const lr = typeof t.lr === 'number' ? t.lr : 1e-3;
  const optimizer = t.optimizer === 'sgd' ? `tf.train.momentum(${lr}, 0.9)` : `tf.train.adam(${lr})`;
  const losses = plan.outputs.map((o) => (o.loss ? LOSS[o.loss] : "'meanSquaredError' /* not trained: weight 0 */"));
  const epochs = typeof t.epochs === 'number' ? t.epochs : 1;
  const batchSize = typeof t.batchSize === 'number' ? t.batchSize : 32;
  const weights = plan.outputs.map((o) => o.lossWeight);
  const lines = [
    '/**',
    ` * ${commentText(graph.name)} (exported from Attention Studio).`,
    ...(graph.description ? [` * ${commentText(graph.description)}`] : []),
    ' *',
    ' * Layer names match the compiled model, so trained weights (model.json) load by name.',
    ' */',
    "import * as tf from '@tensorflow/tfjs';",
    '',
    ...tfjsHelperSources(plan.helpers).flatMap((code) => [code, '']),
    'export function buildModel(): tf.LayersModel {',
    ...indent(
      plan.nodes.flatMap((n) => n.code.body),
      '  ',
    ),
    `  return tf.model({ inputs: [${plan.inputs.map((n) => n.name).join(', ')}], outputs: [${plan.outputs.map((n) => n.name).join(', ')}], name: ${stringLiteral(graph.name)} });`,
    '}',
    '',
    "/** Each output's loss (null: not trained), and the graph's training settings, for main(). */",
    `const LOSSES: (string | null)[] = [${plan.outputs.map((o) => (o.loss ? `'${o.loss}'` : 'null')).join(', ')}];`,
    `const TRAINING = { epochs: ${epochs}, batchSize: ${batchSize} };`,
    '',
    "/** Trains with the graph's settings on tensors `xs` (one per input) and `ys` (one per output). */",
    `export async function train(model: tf.LayersModel, xs: tf.Tensor[], ys: tf.Tensor[], epochs = ${epochs}, batchSize = ${batchSize}, validationData?: [tf.Tensor[], tf.Tensor[]]): Promise<tf.History> {`,
    `  model.compile({ optimizer: ${optimizer}, loss: [${losses.join(', ')}], metrics: ['accuracy'] });`,
    ...(weights.some((w) => w !== 1) ? [`  // Loss weights per output: ${weights.join(', ')} (tfjs applies them through sample weights).`] : []),
    '  const validation = validationData ? { validationData } : { validationSplit: 0.1 };',
    '  return model.fit(xs, ys, { epochs, batchSize, shuffle: true, ...validation });',
    '}',
    '',
    tfjsRuntimeSource(),
    '',
    '// `node model.js --data DATA.npz` (this file compiled by tsc) trains the model; see --help.',
    "if (typeof process !== 'undefined' && process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {",
    '  main(buildModel, train, LOSSES, TRAINING).catch((err: unknown) => {',
    '    console.error(err instanceof Error ? err.message : err);',
    '    process.exitCode = 1;',
    '  });',
    '}',
    '',
  ];
  return lines.join('\n');
}
