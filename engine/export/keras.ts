// Graph -> a Python module on Keras 3: `build_model()` returning a keras.Model
// (functional API, NHWC like the graph), each composite a function that builds
// its layers under a name prefix and each repeat a loop (engine/export/functional.ts),
// attention blocks as the Keras layers of
// engine/export/keras/*.py, a training function, and the loader and command line
// of engine/export/keras/runtime.py. The training settings' fine-tuning
// (engine/export/keras-fine-tune.ts) is applied before compiling.
import type { GraphFile } from '../graph/types.js';
import { graphTrainingConfig } from '../graph/training-section.js';
import { commentText, docstring } from './names.js';
import { indent } from '../blocks/emit/format.js';
import { LOOP_INDEX, NAME_PARAM, writeFunctional, type Dialect } from './functional.js';
import { pythonLayerName, rewritePython } from './prefixed-names.js';
import { kerasHelperSource, kerasRuntimeSource } from './keras-sources.js';
import { KERAS_FINE_TUNING_NAMES, kerasFineTuningSource } from './keras-fine-tune.js';
import { exportFineTuning } from './fine-tune-settings.js';
import { decodesCaptions, KERAS_TEACHER_FORCING, readsLabels } from './teacher-forcing.js';
import { captionReportSource, pythonTopLevelNames } from './python-sources.js';

const LOSS: Record<string, string> = {
  categoricalCrossentropy: '"categorical_crossentropy"',
  // Labels of -1 (the app's IGNORE: a caption's steps past <end>) add no loss, as in the app's trainer.
  sparseCategoricalCrossentropy: 'keras.losses.SparseCategoricalCrossentropy(ignore_class=-1)',
  binaryCrossentropy: '"binary_crossentropy"',
  meanSquaredError: '"mse"',
  meanAbsoluteError: '"mae"',
};

/** Module-level names the file defines itself; layer functions keep clear of these and of the copied Python's. */
const OWN_NAMES = [
  'keras',
  'layers',
  'ops',
  'np',
  'argparse',
  'json',
  'struct',
  'build_model',
  'train',
  'model',
  'epochs',
  'batch_size',
  'LOSSES',
  'TRAINING',
  'TeacherForcing',
  ...KERAS_FINE_TUNING_NAMES,
];

let reserved: string[] | undefined;

const KERAS: Dialect = {
  target: 'keras',
  language: 'python',
  /** Its own names and those that the copied runtime.py and caption_report.py define (read once, at the first export). */
  get reserved() {
    return (reserved ??= [...new Set([...OWN_NAMES, ...[kerasRuntimeSource(), captionReportSource()].flatMap(pythonTopLevelNames)])]);
  },
  define: (ref, params, results, body, doc) => [
    `def ${ref}(${[...params, NAME_PARAM].join(', ')}):`,
    ...(doc ? docstring(doc, '    ') : []),
    ...indent(body, '    '),
    `    return ${results.join(', ')}`,
  ],
  call: (results, ref, args, layer) => `${results.join(', ')} = ${ref}(${[...args, pythonLayerName(layer)].join(', ')})`,
  loop: (result, input, i, count, ref, layer) => [
    `${result} = ${input}`,
    `for ${i} in range(1, ${count + 1}):`,
    `    ${result} = ${ref}(${result}, ${pythonLayerName(layer, LOOP_INDEX, i)})`,
  ],
  rewrite: (line, prefix) => rewritePython(line, prefix, NAME_PARAM),
};

export function exportKeras(graph: GraphFile): string {
  const model = writeFunctional(graph, KERAS);
  const t = graphTrainingConfig(graph.training);
  const layers = model.inlined.map((n) => ({ id: n.key, layer: n.layer }));
  const fineTuning = kerasFineTuningSource(
    layers,
    exportFineTuning(
      t,
      layers.map((n) => n.id),
    ),
  );
  const lr = typeof t.lr === 'number' ? t.lr : 1e-3;
  const optimizer =
    t.optimizer === 'sgd'
      ? `keras.optimizers.SGD(${lr}, momentum=0.9)`
      : t.optimizer === 'adamw'
        ? `keras.optimizers.AdamW(${lr})`
        : `keras.optimizers.Adam(${lr})`;
  const epochs = typeof t.epochs === 'number' ? t.epochs : 1;
  const batchSize = typeof t.batchSize === 'number' ? t.batchSize : 32;
  const losses = model.outputs.map((o) => (o.loss ? LOSS[o.loss] : 'None'));
  const weights = model.outputs.map((o) => o.lossWeight);
  const teacherForcing = readsLabels(model.helpers);
  const captioner = decodesCaptions(model.helpers);
  // Keras 3 wants one metrics list per output of a multi-output model.
  const accuracy = (loss: string | null | undefined) => (loss && /Crossentropy$/.test(loss) ? '["accuracy"]' : '[]');
  const metrics = model.outputs.length === 1 ? accuracy(model.outputs[0].loss) : `[${model.outputs.map((o) => accuracy(o.loss)).join(', ')}]`;
  const lines = [
    `"""${commentText(graph.name)} (exported from Attention Studio).`,
    '',
    ...(graph.description ? [commentText(graph.description), ''] : []),
    'Keras 3, channels-last (NHWC) like the graph. Layer names match the compiled tfjs model.',
    '"""',
    'import argparse',
    'import json',
    'import struct',
    '',
    'import numpy as np',
    'import keras',
    'from keras import layers, ops',
    '',
    '',
    ...[...model.helpers, ...(teacherForcing ? [KERAS_TEACHER_FORCING] : [])].flatMap((h) => [kerasHelperSource(h).trimEnd(), '', '']),
    ...model.functions.flatMap((f) => [...f, '', '']),
    'def build_model():',
    ...indent(model.body, '    '),
    `    return keras.Model(inputs=[${model.inputs.join(', ')}], outputs=[${model.outputs.map((n) => n.name).join(', ')}], name=${JSON.stringify(model.inlined.length ? graph.name.replace(/[^A-Za-z0-9_]/g, '_') : 'model')})`,
    '',
    '',
    `LOSSES = [${losses.join(', ')}]`,
    `TRAINING = {"epochs": ${epochs}, "batch_size": ${batchSize}}`,
    '',
    '',
    ...(fineTuning.length ? [...fineTuning, '', ''] : []),
    `def train(model, x, y, epochs=${epochs}, batch_size=${batchSize}, validation_data=None):`,
    '    """Trains with the graph\'s settings; x and y are lists with one array per input and output."""',
    ...(fineTuning.length ? ['    apply_fine_tuning(model)'] : []),
    ...(teacherForcing
      ? [
          '    # The decoder reads the captions y[0] as its previous words in training (teacher forcing), which fit() does not hand over.',
          '    trainer = TeacherForcing(model)',
          `    trainer.compile(optimizer=${optimizer}, loss=LOSSES, loss_weights=[${weights.join(', ')}], metrics=${metrics})`,
          '    validation = {"validation_data": (TeacherForcing.inputs(*validation_data), validation_data[1])} if validation_data is not None else {"validation_split": 0.1}',
          '    return trainer.fit(TeacherForcing.inputs(x, y), y, epochs=epochs, batch_size=batch_size, shuffle=True, **validation)',
        ]
      : [
          `    model.compile(optimizer=${optimizer}, loss=LOSSES, loss_weights=[${weights.join(', ')}], metrics=${metrics})`,
          '    validation = {"validation_data": validation_data} if validation_data is not None else {"validation_split": 0.1}',
          '    return model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True, **validation)',
        ]),
    '',
    '',
    kerasRuntimeSource().trimEnd(),
    '',
    '',
    ...(captioner ? [captionReportSource().trimEnd(), '', ''] : []),
    'if __name__ == "__main__":',
    `    main(build_model, train, LOSSES, TRAINING${captioner ? ', report=report_captions' : ''})`,
    '',
  ];
  return lines.join('\n');
}
