import type { LayerVariable, Shape as TfShape } from '@tensorflow/tfjs';
import { defineBlock, type Initializer, type Tensor, type TF } from './contract.js';
import { customLayer } from './custom-layer.js';
import { windowOut } from '../shapes/rules.js';
import { window2dShape } from './window2d.js';

interface DepthwiseArgs {
  kernel: number;
  depthMultiplier: number;
  padding: 'same' | 'valid';
  dilation: number;
  useBias: boolean;
  depthwiseInitializer?: Initializer;
  name?: string;
}

/**
 * tfjs's DepthwiseConv2D layer ignores its dilation rate, and the gradient of the
 * dilated depthwise kernel is not implemented, so dilated ones are built the way
 * TensorFlow builds atrous convolutions (tf.nn.with_space_to_batch): space-to-batch,
 * an undilated depthwise convolution, batch-to-space.
 * Every op on that path has a gradient. Weights are named as in tfjs's layer.
 */
export const dilatedDepthwiseConv2dLayer = (tf: TF) =>
  customLayer(tf, 'DilatedDepthwiseConv2D', (tf) => {
    class DilatedDepthwiseConv2D extends tf.layers.Layer {
      static className = 'DilatedDepthwiseConv2D';
      readonly args: DepthwiseArgs;
      private kernel?: LayerVariable;
      private bias?: LayerVariable;
      constructor(args: DepthwiseArgs) {
        super(args);
        this.args = args;
      }
      override build(inputShape: TfShape | TfShape[]) {
        const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as TfShape;
        const { kernel: k, depthMultiplier: m } = this.args;
        const c = s[3] as number;
        this.kernel = this.addWeight('depthwise_kernel', [k, k, c, m], 'float32', this.args.depthwiseInitializer ?? tf.initializers.glorotUniform({}));
        if (this.args.useBias) this.bias = this.addWeight('bias', [c * m], 'float32', tf.initializers.zeros());
        this.built = true;
      }
      override computeOutputShape(inputShape: TfShape | TfShape[]): TfShape {
        const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as TfShape;
        const { kernel, padding, dilation, depthMultiplier } = this.args;
        const out = (d: number | null) => windowOut(d, kernel, 1, padding, dilation);
        return [s[0], out(s[1]), out(s[2]), (s[3] as number) * depthMultiplier];
      }
      override call(inputs: Tensor | Tensor[]) {
        const x = (Array.isArray(inputs) ? inputs[0] : inputs) as ReturnType<TF['tensor4d']>;
        const { kernel: k, padding, dilation: d } = this.args;
        return tf.tidy(() => {
          // Pad so that each spatial size is a multiple of d ("same" also adds the window's own padding),
          // convolve every d-th pixel as its own image, interleave back and crop what the rounding added.
          const plan = (size: number) => {
            const total = padding === 'same' ? (k - 1) * d : 0;
            const before = Math.floor(total / 2);
            const extra = (d - ((size + total) % d)) % d;
            return { pad: [before, total - before + extra], crop: [0, extra] };
          };
          const h = plan(x.shape[1]);
          const w = plan(x.shape[2]);
          const spaced = tf.spaceToBatchND(x, [d, d], [h.pad, w.pad]);
          const conv = tf.depthwiseConv2d(spaced as typeof x, this.kernel!.read() as ReturnType<TF['tensor4d']>, 1, 'valid');
          let y: Tensor = tf.batchToSpaceND(conv, [d, d], [h.crop, w.crop]);
          if (this.bias) y = tf.add(y, this.bias.read());
          return y;
        });
      }
      override getConfig() {
        const { kernel, depthMultiplier, padding, dilation, useBias } = this.args;
        return { ...super.getConfig(), kernel, depthMultiplier, padding, dilation, useBias };
      }
    }
    return DilatedDepthwiseConv2D;
  });

export default defineBlock({
  type: 'core.depthwiseConv2d',
  label: 'DepthwiseConv2D',
  category: 'Convolution',
  doc:
    'A depthwise 2-D convolution: each input channel is convolved with its own `depthMultiplier` k×k kernels and ' +
    'channels never mix, so it costs k·k·C·m weights instead of k·k·C·F. Followed by a 1×1 Conv2D it makes the ' +
    'depthwise-separable convolution of MobileNet (Howard et al. 2017) and Xception (Chollet 2017). Padding, stride ' +
    'and dilation behave as in Conv2D; dilation > 1 needs stride 1.',
  paper: 'Howard et al. (2017). MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications.',
  params: {
    kernel: { type: 'int', default: 3, min: 1, max: 64, doc: 'Kernel size (square).' },
    stride: { type: 'int', default: 1, min: 1, max: 64, doc: 'Stride along height and width.' },
    padding: { type: 'enum', options: ['same', 'valid'], default: 'same', doc: 'Padding mode.' },
    dilation: { type: 'int', default: 1, min: 1, max: 64, doc: 'Dilation rate (only with stride 1).' },
    depthMultiplier: { type: 'int', default: 1, min: 1, max: 256, doc: 'Output channels per input channel.' },
    useBias: { type: 'bool', default: true, doc: 'Add a learned bias per output channel.' },
  },
  inputs: [{ name: 'in', doc: 'Image [B, H, W, C].', rank: 4 }],
  outputs: [{ name: 'out', doc: "Feature map [B, H', W', C × depthMultiplier]." }],
  inferShape({ params: p, inputs }) {
    const [b, oh, ow] = window2dShape(inputs.in, 'in', p);
    const c = inputs.in[3];
    return { out: [b, oh, ow, c === null ? null : c * p.depthMultiplier] };
  },
  build(tf, { params: p, inputs, name, init }) {
    const layer =
      p.dilation === 1
        ? tf.layers.depthwiseConv2d({
            kernelSize: p.kernel,
            strides: p.stride,
            padding: p.padding,
            depthMultiplier: p.depthMultiplier,
            useBias: p.useBias,
            depthwiseInitializer: init.glorotUniform(),
            name,
          })
        : new (dilatedDepthwiseConv2dLayer(tf))({ ...p, depthwiseInitializer: init.glorotUniform(), name });
    return { out: layer.apply(inputs.in) as never };
  },
  examples: [
    { params: { kernel: 3 }, inputs: { in: [null, 8, 8, 4] } },
    { params: { kernel: 5, stride: 2, padding: 'valid', depthMultiplier: 2, useBias: false }, inputs: { in: [null, 11, 9, 3] } },
    { params: { kernel: 3, dilation: 2, padding: 'same' }, inputs: { in: [null, 7, 9, 2] } },
    { params: { kernel: 3, dilation: 3, padding: 'valid', depthMultiplier: 2 }, inputs: { in: [null, 10, 11, 2] } },
  ],
});
