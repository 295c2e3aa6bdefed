// Dilated 2-D convolutions that train. tfjs 4.22 refuses the gradient of a
// convolution with dilation > 1 in two places: the Conv2D kernel's gradient, and
// the fused convolution (tf.fused.conv2d, whose gradient is a closure of its own)
// that tfjs-layers' Conv2D layer runs whenever its activation is linear. The
// first gets a gradient that handles dilation, made of convolutions (conv-grads);
// the layer, when dilated, runs the plain convolution, bias and activation ops
// instead of the fused one, so that its gradient is the first.
import type { TF, Tensor } from '../blocks/contract.js';
import { conv2dFilterGrad, conv2dInputGrad, geometry, type Pad, type Rounding, type T4 } from './conv-grads.js';
import { oncePerEngine } from './once.js';

type Pair = number | [number, number];
interface Conv2DAttrs {
  strides: Pair;
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: Pair;
  dimRoundingMode?: Rounding;
}

const undilated = (d: Pair | undefined) => d === undefined || (Array.isArray(d) ? d.every((v) => v === 1) : d === 1);

/** The Conv2D kernel's gradient, with dilation; undilated ones keep tfjs's own. */
function registerConv2dGradient(tf: TF): void {
  const stock = tf.getGradient('Conv2D');
  if (!stock) throw new Error('tfjs registers no Conv2D gradient to extend');
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const a = attrs as unknown as Conv2DAttrs;
      if (undilated(a.dilations)) return stock.gradFunc(dy, saved, attrs);
      const nchw = a.dataFormat === 'NCHW';
      const toNhwc = (t: Tensor) => (nchw ? tf.transpose(t, [0, 2, 3, 1]) : t) as T4;
      const [x, filter] = saved as T4[];
      const c = geometry(tf, toNhwc(x).shape, filter.shape, a, false);
      return {
        x: () => {
          const dx = conv2dInputGrad(tf, toNhwc(dy as Tensor), filter, c);
          return nchw ? tf.transpose(dx, [0, 3, 1, 2]) : dx;
        },
        filter: () => conv2dFilterGrad(tf, toNhwc(x), toNhwc(dy as Tensor), c),
      };
    },
  });
}

/** What the patch reads of tfjs-layers' Conv2D layer. */
interface Conv2DLayer {
  kernel: { read(): Tensor };
  bias: { read(): Tensor } | null;
  strides: [number, number];
  padding: 'same' | 'valid' | 'causal';
  dataFormat: 'channelsFirst' | 'channelsLast';
  dilationRate: [number, number];
  activation: { apply(x: Tensor): Tensor };
  call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor;
}

const patched = new WeakSet<object>();

/** Dilated Conv2D layers (channels last) run unfused, so that the Conv2D gradient above applies. */
function unfuseDilatedConv2dLayer(tf: TF): void {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap.Conv2D;
  if (!entry) throw new Error('tfjs-layers registers no Conv2D layer');
  const proto = (entry[0] as unknown as { prototype: Conv2DLayer }).prototype;
  if (patched.has(proto)) return;
  patched.add(proto);
  const fusedCall = proto.call;
  proto.call = function (this: Conv2DLayer, inputs, kwargs) {
    if (undilated(this.dilationRate) || this.dataFormat !== 'channelsLast' || this.padding === 'causal') return fusedCall.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as T4;
      const conv = tf.conv2d(x, this.kernel.read() as T4, this.strides, this.padding as 'same', 'NHWC', this.dilationRate);
      return this.activation.apply(this.bias ? tf.add(conv, this.bias.read()) : conv);
    });
  };
}

/** Makes dilated Conv2D (op and layer) differentiable, once per tfjs instance. */
export const registerDilatedConv2d = oncePerEngine((tf: TF): void => {
  registerConv2dGradient(tf);
  unfuseDilatedConv2dLayer(tf);
});
