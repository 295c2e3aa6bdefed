import { kerasHelper, torchHelper } from './emit/torch-helper.js';
import type { LayerVariable, Shape as TfShape } from '@tensorflow/tfjs';
import { defineBlock, ShapeError, type Initializer, type Tensor, type TF } from './contract.js';
import { expectRank } from './shape-rules.js';
import { customLayer } from './custom-layer.js';
import { pyArgs, tsObject } from './emit/snippets.js';

const TS_POSITIONAL = `/**
 * Adds position information to a sequence [batch, time, features] (Vaswani et al. 2017, "Attention Is
 * All You Need"): "sinusoidal" adds sin(pos / 10000^(2i/D)) to even features and cos to odd ones, with
 * no weights; "learned" adds a trained row per position from a maxLength × D table (BERT, GPT-2, ViT).
 */
class PositionalEncoding extends tf.layers.Layer {
  static className = 'PositionalEncoding';
  readonly mode: 'sinusoidal' | 'learned';
  readonly maxLength: number;
  private table?: tf.LayerVariable;

  constructor(args: { mode: 'sinusoidal' | 'learned'; maxLength: number; name?: string }) {
    super(args);
    this.mode = args.mode;
    this.maxLength = args.maxLength;
  }

  override build(inputShape: tf.Shape | tf.Shape[]) {
    const features = (inputShape as tf.Shape)[2] as number;
    if (this.mode === 'learned')
      this.table = this.addWeight('embeddings', [this.maxLength, features], 'float32', tf.initializers.randomNormal({ stddev: 0.02 }));
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const [, steps, features] = x.shape as number[];
    return tf.tidy(() => {
      if (this.table) return tf.add(x, tf.slice(this.table.read(), [0, 0], [steps, features]));
      const codes = new Float32Array(steps * features);
      for (let pos = 0; pos < steps; pos++)
        for (let j = 0; j < features; j++) {
          const angle = pos / Math.pow(10000, (j - (j % 2)) / features);
          codes[pos * features + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
        }
      return tf.add(x, tf.tensor2d(codes, [steps, features]));
    });
  }

  override getConfig() {
    return { ...super.getConfig(), mode: this.mode, maxLength: this.maxLength };
  }
}
tf.serialization.registerClass(PositionalEncoding);`;

export type PositionalMode = 'sinusoidal' | 'learned';

/**
 * The sinusoidal encoding of Vaswani et al. (2017), `length` × `dim`, row-major:
 * PE(pos, 2i) = sin(pos / 10000^(2i/dim)), PE(pos, 2i+1) = cos(pos / 10000^(2i/dim)).
 */
export function sinusoidalTable(length: number, dim: number): Float32Array {
  const table = new Float32Array(length * dim);
  for (let pos = 0; pos < length; pos++)
    for (let j = 0; j < dim; j++) {
      const angle = pos / Math.pow(10000, (j - (j % 2)) / dim);
      table[pos * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  return table;
}

interface PositionalArgs {
  mode: PositionalMode;
  maxLength: number;
  /** Learned mode; a model loaded from disk takes its table from the weights file instead. */
  initializer?: Initializer;
  name?: string;
}

/** Adds a position code to every step of [B, T, D]: a fixed sinusoid, or a learned maxLength × D table cut to T rows. */
export const positionalEncodingLayer = (tf: TF) =>
  customLayer(tf, 'PositionalEncoding', (tf) => {
    class PositionalEncoding extends tf.layers.Layer {
      static className = 'PositionalEncoding';
      readonly mode: PositionalMode;
      readonly maxLength: number;
      private readonly initializer?: Initializer;
      private table?: LayerVariable;
      private readonly sinusoids = new Map<number, Float32Array>();
      constructor(args: PositionalArgs) {
        super(args);
        this.mode = args.mode;
        this.maxLength = args.maxLength;
        this.initializer = args.initializer;
      }
      override build(inputShape: TfShape | TfShape[]) {
        const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as TfShape;
        if (this.mode === 'learned')
          this.table = this.addWeight(
            'embeddings',
            [this.maxLength, s[2] as number],
            'float32',
            this.initializer ?? tf.initializers.truncatedNormal({ stddev: 0.02 }),
          );
        this.built = true;
      }
      override computeOutputShape(inputShape: TfShape | TfShape[]) {
        return inputShape;
      }
      override call(inputs: Tensor | Tensor[]) {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const [, t, d] = x.shape;
        return tf.tidy(() => {
          if (this.table) return tf.add(x, tf.slice(this.table.read(), [0, 0], [t, d]));
          let codes = this.sinusoids.get(t);
          if (!codes) this.sinusoids.set(t, (codes = sinusoidalTable(t, d)));
          return tf.add(x, tf.tensor2d(codes, [t, d]));
        });
      }
      override getConfig() {
        return { ...super.getConfig(), mode: this.mode, maxLength: this.maxLength };
      }
    }
    return PositionalEncoding;
  });

export default defineBlock({
  type: 'core.positionalEncoding',
  label: 'Positional encoding',
  category: 'Sequence',
  doc:
    'Adds position information to a sequence [B, T, D], which attention alone cannot see (it treats its input as a ' +
    'set). "sinusoidal" adds the fixed code of Vaswani et al. (2017), sin(pos / 10000^(2i/D)) on even features and ' +
    'cos on odd ones, with no weights; "learned" adds a trained row per position from a maxLength × D table ' +
    '(BERT, GPT-2, ViT), initialised from a normal with σ = 0.02. Sequences longer than maxLength are refused. The ' +
    'original Transformer also multiplies its embeddings by √D before adding the code; this block only adds.',
  paper: 'Vaswani et al. (2017). Attention Is All You Need.',
  params: {
    mode: { type: 'enum', options: ['sinusoidal', 'learned'], default: 'sinusoidal', doc: 'Fixed sinusoids or a learned table.' },
    maxLength: { type: 'int', default: 512, min: 1, max: 100000, doc: 'Longest sequence accepted (rows of the learned table).' },
  },
  inputs: [{ name: 'in', doc: 'Sequence [B, T, D].', rank: 3 }],
  outputs: [{ name: 'out', doc: 'Same shape, positions added.' }],
  inferShape({ params: p, inputs }) {
    const x = expectRank(inputs.in, 'in', 3, 'a sequence [B, T, D]');
    const t = x[1];
    if (t === null) throw new ShapeError('the sequence length must be known to add positions', 'in');
    if (t > p.maxLength) throw new ShapeError(`sequence length ${t} is longer than maxLength ${p.maxLength}: raise maxLength to at least ${t}`, 'in');
    if (x[2] === null) throw new ShapeError('the feature size must be known to add positions', 'in');
    return { out: [...x] };
  },
  build(tf, { params: p, inputs, name, init }) {
    const layer = new (positionalEncodingLayer(tf))({ mode: p.mode, maxLength: p.maxLength, initializer: init.normal(0.02), name });
    return { out: layer.apply(inputs.in) as never };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `const ${outputs.out} = new PositionalEncoding(${tsObject({ mode: p.mode, maxLength: p.maxLength, name: layer })}).apply(${inputs.in}) as tf.SymbolicTensor;`,
      ],
      helpers: [{ name: 'PositionalEncoding', code: TS_POSITIONAL }],
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [`${outputs.out} = PositionalEncoding(${pyArgs([], { mode: p.mode, max_length: p.maxLength, name: layer })})(${inputs.in})`],
      helpers: [kerasHelper('PositionalEncoding', 'layers.py')],
    }),
    pytorch: ({ params: p, inputs, inputShapes, outputs, name }) => ({
      init: [
        `self.${name} = PositionalEncoding(${pyArgs([inputShapes.in[2]], { max_length: p.maxLength, learned: p.mode === 'learned' ? true : undefined })})`,
      ],
      body: [`${outputs.out} = self.${name}(${inputs.in})`],
      helpers: [torchHelper('PositionalEncoding', 'layers.py')],
      torchWeights: p.mode === 'learned' ? [{ torch: 'table', tfjs: 'embeddings' }] : [],
    }),
  },
  examples: [
    { params: { mode: 'sinusoidal' }, inputs: { in: [null, 10, 8] } },
    { params: { mode: 'learned', maxLength: 16 }, inputs: { in: [null, 12, 6] } },
    { params: { mode: 'sinusoidal', maxLength: 5 }, inputs: { in: [null, 5, 7] } },
  ],
});
