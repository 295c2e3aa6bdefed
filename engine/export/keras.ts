// Graph -> a Python module on Keras 3: `build_model()` returning a keras.Model
// (functional API, NHWC like the graph), attention blocks as the Keras layers of
// engine/export/keras/*.py, a training function, and the loader and command line
// of engine/export/keras/runtime.py. The training settings' fine-tuning
// (engine/export/keras-fine-tune.ts) is applied before compiling.
import type { GraphFile } from '../graph/types.js';
import { graphTrainingConfig } from '../graph/training-section.js';
import { commentText } from './names.js';
import { indent } from '../blocks/emit/format.js';
import { planExport } from './plan.js';
import { kerasHelperSource, kerasRuntimeSource } from './keras-sources.js';
import { KERAS_FINE_TUNING_NAMES, kerasFineTuningSource } from './keras-fine-tune.js';
import { exportFineTuning } from './fine-tune-settings.js';

const LOSS: Record<string, string> = {
  categoricalCrossentropy: '"categorical_crossentropy"',
  sparseCategoricalCrossentropy: '"sparse_categorical_crossentropy"',
  binaryCrossentropy: '"binary_crossentropy"',
  meanSquaredError: '"mse"',
  meanAbsoluteError: '"mae"',
};

export function exportKeras(graph: GraphFile): string {
  const plan = planExport(graph, 'keras', [
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
    'main',
    'LOSSES',
    'TRAINING',
    'load_weights',
    'read_safetensors',
    'weight_key',
    'load_arrays',
    'RNN_CELLS',
    ...KERAS_FINE_TUNING_NAMES,
  ]);
  const t = graphTrainingConfig(graph.training);
  const fineTuning = kerasFineTuningSource(
    plan.nodes,
    exportFineTuning(
      t,
      plan.nodes.map((n) => n.id),
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
  const losses = plan.outputs.map((o) => (o.loss ? LOSS[o.loss] : 'None'));
  const weights = plan.outputs.map((o) => o.lossWeight);
  // Keras 3 wants one metrics list per output of a multi-output model.
  const accuracy = (loss: string | null | undefined) => (loss && /Crossentropy$/.test(loss) ? '["accuracy"]' : '[]');
  const metrics = plan.outputs.length === 1 ? accuracy(plan.outputs[0].loss) : `[${plan.outputs.map((o) => accuracy(o.loss)).join(', ')}]`;
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
    ...plan.helpers.flatMap((h) => [kerasHelperSource(h).trimEnd(), '', '']),
    'def build_model():',
    ...indent(
      plan.nodes.flatMap((n) => n.code.body),
      '    ',
    ),
    `    return keras.Model(inputs=[${plan.inputs.map((n) => n.name).join(', ')}], outputs=[${plan.outputs.map((n) => n.name).join(', ')}], name=${JSON.stringify(plan.nodes[0] ? graph.name.replace(/[^A-Za-z0-9_]/g, '_') : 'model')})`,
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
    `    model.compile(optimizer=${optimizer}, loss=LOSSES, loss_weights=[${weights.join(', ')}], metrics=${metrics})`,
    '    validation = {"validation_data": validation_data} if validation_data is not None else {"validation_split": 0.1}',
    '    return model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True, **validation)',
    '',
    '',
    kerasRuntimeSource().trimEnd(),
    '',
    '',
    'if __name__ == "__main__":',
    '    main(build_model, train, LOSSES, TRAINING)',
    '',
  ];
  return lines.join('\n');
}
