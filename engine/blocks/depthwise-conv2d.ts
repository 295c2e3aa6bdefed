import type { LayerVariable, Shape as TfShape } from '@tensorflow/tfjs';
import { defineBlock, type Initializer, type Tensor, type TF } from './contract.js';
import { customLayer } from './custom-layer.js';
import { windowOut } from './shape-rules.js';
import { convWindowParams, emitZeroPad, padForWindow, torchExplicitPadding, window2dShape, windowSettings } from './window2d.js';
import { kerasLayer, torchWindowPadding, tsLayer, tsObject } from './emit/snippets.js';

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

/** The exported tfjs code's version of DilatedDepthwiseConv2D (same class name, config and weight names). */
const TS_DILATED_DEPTHWISE = `/**
 * A dilated depthwise convolution (the depthwise half of MobileNet's separable convolution,
 * Howard et al. 2017, "MobileNets"). tfjs's depthwiseConv2d layer ignores its dilation rate, so this
 * builds it as TensorFlow builds atrous convolutions (tf.nn.with_space_to_batch): space-to-batch,
 * an undilated depthwise convolution, batch-to-space. Weights are named as in tfjs's layer.
 */
class DilatedDepthwiseConv2D extends tf.layers.Layer {
  static className = 'DilatedDepthwiseConv2D';
  readonly kernel: number;
  readonly depthMultiplier: number;
  readonly padding: 'same' | 'valid';
  readonly dilation: number;
  readonly useBias: boolean;
  private depthwiseKernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;

  constructor(args: { kernel: number; depthMultiplier: number; padding: 'same' | 'valid'; dilation: number; useBias: boolean; name?: string }) {
    super(args);
    this.kernel = args.kernel;
    this.depthMultiplier = args.depthMultiplier;
    this.padding = args.padding;
    this.dilation = args.dilation;
    this.useBias = args.useBias;
  }

  override build(inputShape: tf.Shape | tf.Shape[]) {
    const channels = (inputShape as tf.Shape)[3] as number;
    const [k, m] = [this.kernel, this.depthMultiplier];
    this.depthwiseKernel = this.addWeight('depthwise_kernel', [k, k, channels, m], 'float32', tf.initializers.glorotUniform({}));
    if (this.useBias) this.bias = this.addWeight('bias', [channels * m], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [batch, height, width, channels] = inputShape as tf.Shape;
    const lost = this.padding === 'same' ? 0 : (this.kernel - 1) * this.dilation;
    const size = (d: number | null) => (d === null ? null : d - lost);
    return [batch, size(height), size(width), (channels as number) * this.depthMultiplier];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    const [k, d] = [this.kernel, this.dilation];
    return tf.tidy(() => {
      // Pad each spatial axis to a multiple of d ("same" also adds the window's own padding),
      // convolve every d-th pixel as its own image, interleave back, crop what the rounding added.
      const plan = (size: number) => {
        const total = this.padding === 'same' ? (k - 1) * d : 0;
        const before = Math.floor(total / 2);
        const extra = (d - ((size + total) % d)) % d;
        return { pad: [before, total - before + extra], crop: [0, extra] };
      };
      const h = plan(x.shape[1]);
      const w = plan(x.shape[2]);
      const spaced = tf.spaceToBatchND(x, [d, d], [h.pad, w.pad]) as tf.Tensor4D;
      const y = tf.depthwiseConv2d(spaced, this.depthwiseKernel!.read() as tf.Tensor4D, 1, 'valid');
      const out = tf.batchToSpaceND(y, [d, d], [h.crop, w.crop]);
      return this.bias ? tf.add(out, this.bias.read()) : out;
    });
  }

  override getConfig() {
    const { kernel, depthMultiplier, padding, dilation, useBias } = this;
    return { ...super.getConfig(), kernel, depthMultiplier, padding, dilation, useBias };
  }
}
tf.serialization.registerClass(DilatedDepthwiseConv2D);`;

/** The depth multiplier as an exported layer's setting, tfjs's default 1 left out. */
const unlessOne = (m: number) => (m === 1 ? undefined : m);

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
    ...convWindowParams,
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
    const padding = p.padding === 'explicit' ? 'valid' : p.padding;
    const layer =
      p.dilation === 1
        ? tf.layers.depthwiseConv2d({
            kernelSize: p.kernel,
            strides: p.stride,
            padding,
            depthMultiplier: p.depthMultiplier,
            useBias: p.useBias,
            depthwiseInitializer: init.glorotUniform(),
            name,
          })
        : new (dilatedDepthwiseConv2dLayer(tf))({ ...p, padding, depthwiseInitializer: init.glorotUniform(), name });
    return { out: layer.apply(padForWindow(tf, inputs.in, p, name)) as never };
  },
  emit: {
    tfjs({ params: p, inputs, outputs, layer }) {
      // Explicit padding: a zero-padding layer, then a "valid" window, as the builder does.
      const { x, body: pad } = emitZeroPad('tfjs', p, inputs.in, outputs.out, layer);
      const padding = p.padding === 'explicit' ? 'valid' : p.padding;
      if (p.dilation === 1) {
        const config = {
          kernelSize: p.kernel,
          ...windowSettings('tfjs', p),
          depthMultiplier: unlessOne(p.depthMultiplier),
          useBias: p.useBias ? undefined : false,
          name: layer,
        };
        return { body: [...pad, tsLayer(outputs.out, 'depthwiseConv2d', config, x)] };
      }
      const args = { kernel: p.kernel, depthMultiplier: p.depthMultiplier, padding, dilation: p.dilation, useBias: p.useBias, name: layer };
      return {
        body: [...pad, `const ${outputs.out} = new DilatedDepthwiseConv2D(${tsObject(args)}).apply(${x}) as tf.SymbolicTensor;`],
        helpers: [{ name: 'DilatedDepthwiseConv2D', code: TS_DILATED_DEPTHWISE }],
      };
    },
    keras({ params: p, inputs, outputs, layer }) {
      const { x, body } = emitZeroPad('keras', p, inputs.in, outputs.out, layer);
      const config = { ...windowSettings('keras', p), depth_multiplier: unlessOne(p.depthMultiplier), use_bias: p.useBias ? undefined : false, name: layer };
      return { body: [...body, kerasLayer(outputs.out, 'DepthwiseConv2D', [p.kernel], config, x)] };
    },
    pytorch({ params: p, inputs, inputShapes, outputs, name }) {
      const x = inputShapes.in;
      const c = x[3];
      if (c === null) throw new Error('the number of input channels must be known to export');
      const m = p.depthMultiplier;
      const pad = p.padding === 'explicit' ? torchExplicitPadding(p.pads) : torchWindowPadding(x, p.kernel, p.stride, p.padding, p.dilation);
      // A grouped convolution with one group per input channel; output channel c·m + j is kernel j of channel c, as in TensorFlow.
      const args = [`${c}, ${c * m}, kernel_size=${p.kernel}`];
      if (p.stride !== 1) args.push(`stride=${p.stride}`);
      if (pad.arg !== '0') args.push(`padding=${pad.arg}`);
      if (p.dilation !== 1) args.push(`dilation=${p.dilation}`);
      args.push(`groups=${c}`);
      if (!p.useBias) args.push('bias=False');
      const input = pad.pad ? `F.pad(${inputs.in}, (${pad.pad.join(', ')}))` : inputs.in;
      return {
        init: [`self.${name} = nn.Conv2d(${args.join(', ')})  # depthwise: one group per channel`],
        body: [
          ...(pad.pad ? [`# TensorFlow "same" padding is uneven here: (left, right, top, bottom) = (${pad.pad.join(', ')})`] : []),
          `${outputs.out} = self.${name}(${input})`,
        ],
        torchWeights: [
          // tfjs [kh, kw, in, mult] -> [in, mult, kh, kw] -> PyTorch's [in * mult, 1, kh, kw]
          { torch: 'weight', tfjs: 'depthwise_kernel', permute: [2, 3, 0, 1], reshape: [c * m, 1, p.kernel, p.kernel] },
          ...(p.useBias ? [{ torch: 'bias', tfjs: 'bias' }] : []),
        ],
      };
    },
  },
  examples: [
    { params: { kernel: 3 }, inputs: { in: [null, 8, 8, 4] } },
    { params: { kernel: 5, stride: 2, padding: 'valid', depthMultiplier: 2, useBias: false }, inputs: { in: [null, 11, 9, 3] } },
    { params: { kernel: 3, dilation: 2, padding: 'same' }, inputs: { in: [null, 7, 9, 2] } },
    { params: { kernel: 3, dilation: 3, padding: 'valid', depthMultiplier: 2 }, inputs: { in: [null, 10, 11, 2] } },
  ],
});
