// Pooling: windowed (Pool2D) and global over an image or a sequence.
import { defineBlock, ShapeError } from './contract.js';
import { expectRank } from './shape-rules.js';
import { explicitSides, paddingParams, torchExplicitPadding, window2dShape } from './window2d.js';
import { paddedPool2dLayer } from './padded-pool.js';
import { kerasHelper, tfjsHelper } from './emit/torch-helper.js';
import { kerasLayer, pyArgs, torchWindowPadding, tsLayer, tsObject } from './emit/snippets.js';

const mode = { type: 'enum', options: ['max', 'avg'], default: 'max', doc: 'Take the maximum or the mean of each window.' } as const;

/** The PaddedPool2D layer's configuration, as built and as exported to tfjs. */
function paddedPoolArgs(p: { mode: 'max' | 'avg'; size: number; stride: number; pads: number[]; ceilMode: boolean; countIncludePad: boolean }, name: string) {
  return { mode: p.mode, size: p.size, stride: p.stride, sides: explicitSides(p.pads), ceilMode: p.ceilMode, countIncludePad: p.countIncludePad, name };
}

/** PyTorch's explicit-padding pooling call; asymmetric padding goes through F.pad (-inf for max). */
function torchExplicitPool(
  p: { mode: string; pads: number[]; ceilMode: boolean; countIncludePad: boolean },
  x: string,
  window: (x: string, keywords?: Record<string, unknown>) => string,
): string {
  const pad = torchExplicitPadding(p.pads);
  const flags = { ceil_mode: p.ceilMode ? true : undefined, count_include_pad: p.mode === 'avg' && !p.countIncludePad ? false : undefined };
  if (!pad.pad) return window(x, { padding: pad.arg === '0' ? undefined : { toString: () => pad.arg }, ...flags });
  if (p.mode === 'avg' && (!p.countIncludePad || p.ceilMode))
    throw new Error('uneven explicit padding of average pooling without count_include_pad or with ceil_mode has no PyTorch form');
  return window(`F.pad(${x}, (${pad.pad.join(', ')})${p.mode === 'max' ? ', value=float("-inf")' : ''})`, flags);
}

export const pool2d = defineBlock({
  type: 'core.pool2d',
  label: 'Pool2D',
  category: 'Pooling',
  doc:
    'Max or average pooling over size×size windows of an NHWC image, moved by `stride`: halves the resolution with ' +
    'the defaults. Channels are pooled independently. With "same" padding, average pooling divides by the number of ' +
    "real pixels in each window (as TensorFlow does; PyTorch's AvgPool2d counts the padding unless " +
    'count_include_pad=False). "explicit" padding is PyTorch\'s: max pooling pads with -inf, average pooling counts ' +
    'the padding unless countIncludePad is off, and ceilMode keeps a last partial window.',
  params: {
    mode,
    size: { type: 'int', default: 2, min: 1, max: 64, doc: 'Window size (square).' },
    stride: { type: 'int', default: 2, min: 1, max: 64, doc: 'Step between windows.' },
    padding: { ...paddingParams.padding, default: 'valid' as const },
    pads: { ...paddingParams.pads, doc: `${paddingParams.pads.doc} At most half the window, as in PyTorch.` },
    ceilMode: { type: 'bool', default: false, doc: "With explicit padding: round the output size up (PyTorch's ceil_mode)." },
    countIncludePad: {
      type: 'bool',
      default: true,
      doc: "With explicit padding, average pooling: divide by the window including its padding (PyTorch's count_include_pad).",
    },
  },
  inputs: [{ name: 'in', doc: 'Image [B, H, W, C].', rank: 4 }],
  outputs: [{ name: 'out', doc: "Pooled map [B, H', W', C]." }],
  inferShape({ params: p, inputs }) {
    const [b, oh, ow] = window2dShape(inputs.in, 'in', { kernel: p.size, stride: p.stride, padding: p.padding, pads: p.pads, ceilMode: p.ceilMode });
    if (p.padding === 'explicit' && explicitSides(p.pads).some((s) => 2 * s > p.size))
      throw new ShapeError(`pads ${JSON.stringify(p.pads)} must be at most half the window size ${p.size} (as in PyTorch)`, 'in');
    return { out: [b, oh, ow, inputs.in[3]] };
  },
  build(tf, { params: p, inputs, name }) {
    if (p.padding === 'explicit') return { out: new (paddedPool2dLayer(tf))(paddedPoolArgs(p, name)).apply(inputs.in) as never };
    const args = { poolSize: p.size, strides: p.stride, padding: p.padding, name };
    const layer = p.mode === 'max' ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args);
    return { out: layer.apply(inputs.in) as never };
  },
  emit: {
    tfjs({ params: p, inputs, outputs, layer }) {
      if (p.padding === 'explicit') {
        return {
          body: [`const ${outputs.out} = new (paddedPool2dLayer(tf))(${tsObject(paddedPoolArgs(p, layer))}).apply(${inputs.in}) as tf.SymbolicTensor;`],
          helpers: [tfjsHelper('paddedPool2dLayer', 'padded-pool.ts')],
        };
      }
      return {
        body: [
          tsLayer(
            outputs.out,
            p.mode === 'max' ? 'maxPooling2d' : 'averagePooling2d',
            { poolSize: p.size, strides: p.stride, padding: p.padding, name: layer },
            inputs.in,
          ),
        ],
      };
    },
    keras({ params: p, inputs, outputs, layer }) {
      const cls = p.mode === 'max' ? 'MaxPooling2D' : 'AveragePooling2D';
      const strides = p.stride === p.size ? undefined : p.stride;
      if (p.padding === 'explicit') {
        // PyTorch's padding (-inf for max), ceil mode and divisor, as the tfjs model's PaddedPool2D.
        const args = {
          mode: p.mode,
          size: p.size,
          stride: p.stride,
          sides: explicitSides(p.pads),
          ceil_mode: p.ceilMode ? true : undefined,
          count_include_pad: p.countIncludePad ? undefined : false,
          name: layer,
        };
        return { body: [`${outputs.out} = PaddedPool2D(${pyArgs([], args)})(${inputs.in})`], helpers: [kerasHelper('PaddedPool2D', 'layers.py')] };
      }
      // Keras pools "same" windows as TensorFlow does: the mean counts only the real pixels.
      return { body: [kerasLayer(outputs.out, cls, [p.size], { strides, padding: p.padding, name: layer }, inputs.in)] };
    },
    pytorch({ params: p, inputs, inputShapes, outputs }) {
      const fn = p.mode === 'max' ? 'F.max_pool2d' : 'F.avg_pool2d';
      const window = (x: string, keywords: Record<string, unknown> = {}) =>
        `${fn}(${x}, ${pyArgs([p.size], { stride: p.stride === p.size ? undefined : p.stride, ...keywords })})`;
      const x = inputs.in;
      if (p.padding === 'explicit') return { body: [`${outputs.out} = ${torchExplicitPool(p, x, window)}`] };
      const pad = torchWindowPadding(inputShapes.in, p.size, p.stride, p.padding);
      if (!pad.pad) {
        // Even "same" padding: PyTorch's padding argument pads max pooling with -inf, and
        // count_include_pad=False makes the mean count only real pixels, as TensorFlow does.
        const amount = pad.arg.startsWith('(') ? pad.arg.slice(1, -1).split(',').map(Number) : Number(pad.arg);
        const padding = pad.arg === '0' ? {} : { padding: amount, count_include_pad: p.mode === 'avg' ? false : undefined };
        return { body: [`${outputs.out} = ${window(x, padding)}`] };
      }
      const lrtb = pad.pad.join(', ');
      const note = `# TensorFlow "same" padding is uneven here: (left, right, top, bottom) = (${lrtb})`;
      if (p.mode === 'max')
        return { body: [`${note}, and padded pixels never win the max`, `${outputs.out} = ${window(`F.pad(${x}, (${lrtb}), value=float("-inf"))`)}`] };
      // The mean over the real pixels of each window: padded mean / mean of a padded mask of ones.
      return {
        body: [
          `${note}; TensorFlow's mean counts only the real pixels`,
          `${outputs.out} = ${window(`F.pad(${x}, (${lrtb}))`)} / ${window(`F.pad(torch.ones_like(${x}[:, :1]), (${lrtb}))`)}`,
        ],
      };
    },
  },
  examples: [
    { inputs: { in: [null, 8, 8, 3] } },
    { params: { mode: 'avg', size: 3, stride: 2, padding: 'same' }, inputs: { in: [null, 7, 9, 2] } },
    { params: { mode: 'max', size: 3, stride: 1, padding: 'valid' }, inputs: { in: [null, 5, 6, 4] } },
  ],
});

export const globalPool2d = defineBlock({
  type: 'core.globalPool2d',
  label: 'Global pool 2D',
  category: 'Pooling',
  doc:
    'The maximum or the mean of each channel over the whole image: [B, H, W, C] becomes [B, C], or [B, 1, 1, C] with ' +
    '`keepDims`, the form that broadcasts back over the feature map (the squeeze step of Squeeze-and-Excitation, ' +
    'Hu et al. 2018). Global average pooling before the classifier replaces flatten + dense in most CNNs since ' +
    'Lin et al. (2014).',
  params: {
    mode: { ...mode, default: 'avg' },
    keepDims: { type: 'bool', default: false, doc: 'Keep the pooled height and width axes as size 1.' },
  },
  inputs: [{ name: 'in', doc: 'Image [B, H, W, C].', rank: 4 }],
  outputs: [{ name: 'out', doc: '[B, C], or [B, 1, 1, C] with keepDims.' }],
  inferShape({ params: p, inputs }) {
    const [b, , , c] = expectRank(inputs.in, 'in', 4, 'an NHWC image');
    return { out: p.keepDims ? [b, 1, 1, c] : [b, c] };
  },
  build(tf, { params: p, inputs, name }) {
    const pool = p.mode === 'max' ? tf.layers.globalMaxPooling2d({ name }) : tf.layers.globalAveragePooling2d({ name });
    const pooled = pool.apply(inputs.in);
    // tfjs's global pooling layers have no keepDims.
    const out = p.keepDims ? tf.layers.reshape({ targetShape: [1, 1, inputs.in.shape[3] as number], name: `${name}_keepdims` }).apply(pooled) : pooled;
    return { out: out as never };
  },
  emit: {
    tfjs({ params: p, inputs, inputShapes, outputs, layer }) {
      const factory = p.mode === 'max' ? 'globalMaxPooling2d' : 'globalAveragePooling2d';
      if (!p.keepDims) return { body: [tsLayer(outputs.out, factory, { name: layer }, inputs.in)] };
      const pooled = `${outputs.out}Pooled`;
      return {
        body: [
          tsLayer(pooled, factory, { name: layer }, inputs.in),
          `// tfjs's global pooling has no keepDims: reshape [B, C] to [B, 1, 1, C]`,
          tsLayer(outputs.out, 'reshape', { targetShape: [1, 1, inputShapes.in[3]], name: `${layer}_keepdims` }, pooled),
        ],
      };
    },
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        kerasLayer(
          outputs.out,
          p.mode === 'max' ? 'GlobalMaxPooling2D' : 'GlobalAveragePooling2D',
          [],
          { keepdims: p.keepDims ? true : undefined, name: layer },
          inputs.in,
        ),
      ],
    }),
    pytorch: ({ params: p, inputs, outputs }) => ({
      body: [`${outputs.out} = ${inputs.in}.${p.mode === 'max' ? 'amax' : 'mean'}(dim=(2, 3)${p.keepDims ? ', keepdim=True' : ''})`],
    }),
  },
  examples: [
    { inputs: { in: [null, 6, 6, 8] } },
    { params: { mode: 'max', keepDims: true }, inputs: { in: [null, 5, 7, 3] } },
    { params: { mode: 'avg', keepDims: true }, inputs: { in: [null, 4, 4, 2] } },
  ],
});

export const globalPool1d = defineBlock({
  type: 'core.globalPool1d',
  label: 'Global pool 1D',
  category: 'Pooling',
  doc:
    'The maximum or the mean of each feature over the time axis: a sequence [B, T, F] becomes one vector [B, F], ' +
    'e.g. to classify a whole sequence from the outputs of an attention or recurrent stack (mean pooling is the ' +
    'usual alternative to a class token).',
  params: { mode: { ...mode, default: 'avg' } },
  inputs: [{ name: 'in', doc: 'Sequence [B, T, F].', rank: 3 }],
  outputs: [{ name: 'out', doc: '[B, F].' }],
  inferShape({ inputs }) {
    const [b, , f] = expectRank(inputs.in, 'in', 3, 'a sequence [B, T, F]');
    return { out: [b, f] };
  },
  build(tf, { params: p, inputs, name }) {
    const layer = p.mode === 'max' ? tf.layers.globalMaxPooling1d({ name }) : tf.layers.globalAveragePooling1d({ name });
    return { out: layer.apply(inputs.in) as never };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [tsLayer(outputs.out, p.mode === 'max' ? 'globalMaxPooling1d' : 'globalAveragePooling1d', { name: layer }, inputs.in)],
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [kerasLayer(outputs.out, p.mode === 'max' ? 'GlobalMaxPooling1D' : 'GlobalAveragePooling1D', [], { name: layer }, inputs.in)],
    }),
    pytorch: ({ params: p, inputs, outputs }) => ({
      body: [`${outputs.out} = ${inputs.in}.${p.mode === 'max' ? 'amax' : 'mean'}(dim=1)`],
    }),
  },
  examples: [{ inputs: { in: [null, 10, 6] } }, { params: { mode: 'max' }, inputs: { in: [null, 4, 3] } }],
});
