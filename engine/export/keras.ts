// Graph -> a Python module on Keras 3: `build_model()` returning a keras.Model
// (functional API, NHWC like the graph), attention blocks as Keras layers, and
// a short training function.
import type { GraphFile } from '../graph/types.js';
import { graphTrainingConfig } from '../graph/training-section.js';
import { commentText } from './names.js';
import { indent } from '../blocks/emit/format.js';
import { planExport } from './plan.js';

const LOSS: Record<string, string> = {
  categoricalCrossentropy: '"categorical_crossentropy"',
  sparseCategoricalCrossentropy: '"sparse_categorical_crossentropy"',
  binaryCrossentropy: '"binary_crossentropy"',
  meanSquaredError: '"mse"',
  meanAbsoluteError: '"mae"',
};

export function exportKeras(graph: GraphFile): string {
  const plan = planExport(graph, 'keras', ['keras', 'layers', 'ops', 'build_model', 'train', 'model', 'epochs', 'batch_size']);
  const t = graphTrainingConfig(graph.training);
  const lr = typeof t.lr === 'number' ? t.lr : 1e-3;
  const optimizer =
    t.optimizer === 'sgd' ? `keras.optimizers.SGD(${lr}, momentum=0.9)` : t.optimizer === 'adamw' ? `keras.optimizers.AdamW(${lr})` : `keras.optimizers.Adam(${lr})`;
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
    'import keras',
    'from keras import layers, ops',
    '',
    '',
    ...plan.helpers.flatMap((h) => [(h.code ?? '').trimEnd(), '', '']),
    'def build_model():',
    ...indent(
      plan.nodes.flatMap((n) => n.code.body),
      '    ',
    ),
    `    return keras.Model(inputs=[${plan.inputs.map((n) => n.name).join(', ')}], outputs=[${plan.outputs.map((n) => n.name).join(', ')}], name=${JSON.stringify(plan.nodes[0] ? graph.name.replace(/[^A-Za-z0-9_]/g, '_') : 'model')})`,
    '',
    '',
    `def train(model, x, y, epochs=${typeof t.epochs === 'number' ? t.epochs : 1}, batch_size=${typeof t.batchSize === 'number' ? t.batchSize : 32}):`,
    '    """Trains with the graph\'s settings; x and y are lists with one array per input and output."""',
    `    model.compile(optimizer=${optimizer}, loss=[${losses.join(', ')}], loss_weights=[${weights.join(', ')}], metrics=${metrics})`,
    '    return model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=0.1)',
    '',
    '',
    'if __name__ == "__main__":',
    '    build_model().summary()',
    '',
  ];
  return lines.join('\n');
}
