import { defineBlock } from './contract.js';
import { dilatedDepthwiseConv2dLayer } from './dilated-depthwise.js';
import { tfjsHelper } from './emit/torch-helper.js';
import {
  convOptions,
  convPadding,
  emitConvLayer,
  emitZeroPad,
  paddingParams,
  torchExplicitPadding,
  window2dShape,
  zeroPad,
  type Window2d,
} from './window2d.js';
import { torchWindowPadding, tsObject } from './emit/snippets.js';

/** The exported layer's options after the kernel size, in tfjs's names. */
const depthwiseArgs = (p: Window2d & { useBias: boolean; depthMultiplier: number }, layer: string) => {
  const { strides, padding, dilationRate, useBias } = convOptions(p);
  return { strides, padding, depthMultiplier: p.depthMultiplier === 1 ? undefined : p.depthMultiplier, dilationRate, useBias, name: layer };
};

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
    ...paddingParams,
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
    const { sides, padding } = convPadding(p);
    const x = sides ? zeroPad(tf, inputs.in, sides, name) : inputs.in;
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
    return { out: layer.apply(x) as never };
  },
  emit: {
    tfjs({ params: p, inputs, outputs, layer }) {
      const io = { input: inputs.in, out: outputs.out, layer };
      if (p.dilation === 1) return { body: emitConvLayer('tfjs', p, io, 'depthwiseConv2d', { kernelSize: p.kernel }, depthwiseArgs(p, layer)) };
      // tfjs's depthwiseConv2d layer ignores dilation: the engine's own layer, after the explicit padding's layer.
      const { x, body: pad } = emitZeroPad('tfjs', p, inputs.in, outputs.out, layer);
      const padding = p.padding === 'explicit' ? 'valid' : p.padding;
      const args = { kernel: p.kernel, depthMultiplier: p.depthMultiplier, padding, dilation: p.dilation, useBias: p.useBias, name: layer };
      return {
        body: [...pad, `const ${outputs.out} = new (dilatedDepthwiseConv2dLayer(tf))(${tsObject(args)}).apply(${x}) as tf.SymbolicTensor;`],
        helpers: [tfjsHelper('dilatedDepthwiseConv2dLayer', 'dilated-depthwise.ts')],
      };
    },
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: emitConvLayer('keras', p, { input: inputs.in, out: outputs.out, layer }, 'DepthwiseConv2D', { kernelSize: p.kernel }, depthwiseArgs(p, layer)),
    }),
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
