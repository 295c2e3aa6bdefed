// Graph -> a TypeScript module on tfjs: `export function buildModel(): tf.LayersModel`
// with each composite a function that builds its layers under a name prefix and
// each repeat a loop (engine/export/functional.ts), the attention blocks as custom
// layer classes, a training function, and the
// data reader and command line of engine/export/tfjs/runtime.ts (`node model.js --data`).
import type { GraphFile } from '../graph/types.js';
import { graphTrainingConfig } from '../graph/training-section.js';
import { commentText, stringLiteral } from './names.js';
import { indent } from '../blocks/emit/format.js';
import { LOOP_INDEX, NAME_PARAM, writeFunctional, type Dialect } from './functional.js';
import { rewriteTypescript, typescriptLayerName } from './prefixed-names.js';
import { tfjsCaptionsSource, tfjsHelperNames, tfjsHelperSources, tfjsRuntimeSource, tfjsTeacherForcingSource } from './tfjs-sources.js';
import { decodesCaptions, readsLabels } from './teacher-forcing.js';

const LOSS: Record<string, string> = {
  categoricalCrossentropy: "'categoricalCrossentropy'",
  sparseCategoricalCrossentropy: "'sparseCategoricalCrossentropy'",
  binaryCrossentropy: "'binaryCrossentropy'",
  meanSquaredError: "'meanSquaredError'",
  meanAbsoluteError: "'meanAbsoluteError'",
};

/** Module-level names of the file. */
const RESERVED = [
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
  'fitTeacherForced',
  'classIds',
  'labelledCrossEntropy',
  'labelledAccuracy',
  'validationScores',
  'END_TOKEN',
  'readCaptionVocabulary',
  'captionTexts',
  'captionIds',
  'reportCaptions',
  'predictedClasses',
  'Report',
  'firstOutput',
  'LOG_EPSILON',
  ...tfjsHelperNames(),
];

const tensors = (n: number) => (n === 1 ? 'tf.SymbolicTensor' : `[${Array(n).fill('tf.SymbolicTensor').join(', ')}]`);
const tuple = (xs: string[]) => (xs.length === 1 ? xs[0] : `[${xs.join(', ')}]`);

const TYPESCRIPT: Dialect = {
  target: 'tfjs',
  language: 'typescript',
  reserved: RESERVED,
  define: (ref, params, results, body, doc) => [
    ...(doc ? [`/** ${commentText(doc)} */`] : []),
    `function ${ref}(${[...params.map((p) => `${p}: tf.SymbolicTensor`), `${NAME_PARAM}: string`].join(', ')}): ${tensors(results.length)} {`,
    ...indent(body, '  '),
    `  return ${tuple(results)};`,
    '}',
  ],
  call: (results, ref, args, layer) => `const ${tuple(results)} = ${ref}(${[...args, typescriptLayerName(layer)].join(', ')});`,
  loop: (result, input, i, count, ref, layer) => [
    `let ${result} = ${input};`,
    `for (let ${i} = 1; ${i} <= ${count}; ${i}++) ${result} = ${ref}(${result}, ${typescriptLayerName(layer, LOOP_INDEX, i)});`,
  ],
  rewrite: (line, prefix) => rewriteTypescript(line, prefix, NAME_PARAM),
};

export function exportTfjs(graph: GraphFile): string {
  const model = writeFunctional(graph, TYPESCRIPT);
  const t = graphTrainingConfig(graph.training);
  const lr = typeof t.lr === 'number' ? t.lr : 1e-3;
  const optimizer = t.optimizer === 'sgd' ? `tf.train.momentum(${lr}, 0.9)` : `tf.train.adam(${lr})`;
  const losses = model.outputs.map((o) => (o.loss ? LOSS[o.loss] : "'meanSquaredError' /* not trained: weight 0 */"));
  const epochs = typeof t.epochs === 'number' ? t.epochs : 1;
  const batchSize = typeof t.batchSize === 'number' ? t.batchSize : 32;
  const weights = model.outputs.map((o) => o.lossWeight);
  const teacherForcing = readsLabels(model.helpers);
  const lines = [
    '/**',
    ` * ${commentText(graph.name)} (exported from Attention Studio).`,
    ...(graph.description ? [` * ${commentText(graph.description)}`] : []),
    ' *',
    ' * Layer names match the compiled model, so trained weights (model.json) load by name.',
    ' */',
    "import * as tf from '@tensorflow/tfjs';",
    '',
    ...tfjsHelperSources(model.helpers).flatMap((code) => [code, '']),
    ...model.functions.flatMap((f) => [...f, '']),
    'export function buildModel(): tf.LayersModel {',
    ...indent(model.body, '  '),
    `  return tf.model({ inputs: [${model.inputs.join(', ')}], outputs: [${model.outputs.map((n) => n.name).join(', ')}], name: ${stringLiteral(graph.name)} });`,
    '}',
    '',
    "/** Each output's loss (null: not trained), and the graph's training settings, for main(). */",
    `const LOSSES: (string | null)[] = [${model.outputs.map((o) => (o.loss ? `'${o.loss}'` : 'null')).join(', ')}];`,
    `const TRAINING = { epochs: ${epochs}, batchSize: ${batchSize} };`,
    '',
    "/** Trains with the graph's settings on tensors `xs` (one per input) and `ys` (one per output). */",
    `export async function train(model: tf.LayersModel, xs: tf.Tensor[], ys: tf.Tensor[], epochs = ${epochs}, batchSize = ${batchSize}, validationData?: [tf.Tensor[], tf.Tensor[]]): Promise<tf.History> {`,
    `  model.compile({ optimizer: ${optimizer}, loss: [${losses.join(', ')}], metrics: ['accuracy'] });`,
    ...(weights.some((w) => w !== 1) ? [`  // Loss weights per output: ${weights.join(', ')} (tfjs applies them through sample weights).`] : []),
    ...(teacherForcing
      ? [
          '  // The decoder reads the labels as its previous words in training (teacher forcing), which fit() does not hand over.',
          '  return fitTeacherForced(model, xs, ys, epochs, batchSize, validationData);',
        ]
      : [
          '  const validation = validationData ? { validationData } : { validationSplit: 0.1 };',
          '  return model.fit(xs, ys, { epochs, batchSize, shuffle: true, ...validation });',
        ]),
    '}',
    '',
    tfjsRuntimeSource(),
    '',
    ...(teacherForcing ? [tfjsTeacherForcingSource(), '', tfjsCaptionsSource(), ''] : []),
    '// `node model.js --data DATA.npz` (this file compiled by tsc) trains the model; see --help.',
    "if (typeof process !== 'undefined' && process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {",
    `  main(buildModel, train, LOSSES, TRAINING${decodesCaptions(model.helpers) ? ', process.argv.slice(2), reportCaptions' : ''}).catch((err: unknown) => {`,
    '    console.error(err instanceof Error ? err.message : err);',
    '    process.exitCode = 1;',
    '  });',
    '}',
    '',
  ];
  return lines.join('\n');
}
