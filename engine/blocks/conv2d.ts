import { defineBlock } from './contract.js';
import { convOptions, convPadding, emitConvLayer, paddingParams, torchExplicitPadding, window2dShape, zeroPad, type Window2d } from './window2d.js';
import { CONV_KERNEL_TO_TORCH, torchActivation, torchWindowPadding } from './emit/snippets.js';

/** The exported layer's options after filters and kernel size, in tfjs's names. */
const convArgs = (p: Window2d & { useBias: boolean; activation: string }, layer: string) => ({
  ...convOptions(p),
  activation: p.activation === 'linear' ? undefined : p.activation,
  name: layer,
});

export default defineBlock({
  type: 'core.conv2d',
  label: 'Conv2D',
  category: 'Convolution',
  doc:
    'A 2-D convolution over an NHWC image: `filters` learned k×k kernels slide over the height and width axes with ' +
    'the given stride and dilation. "same" padding keeps the size (divided by the stride), "valid" uses no padding. ' +
    'Turn the bias off when a BatchNorm follows, as torchvision does.',
  params: {
    filters: { type: 'int', default: 32, min: 1, max: 100000, doc: 'Output channels.' },
    kernel: { type: 'int', default: 3, min: 1, max: 64, doc: 'Kernel size (square).' },
    stride: { type: 'int', default: 1, min: 1, max: 64, doc: 'Stride along height and width.' },
    ...paddingParams,
    dilation: { type: 'int', default: 1, min: 1, max: 64, doc: 'Dilation rate (only with stride 1).' },
    useBias: { type: 'bool', default: true, doc: 'Add a learned bias per filter.' },
    activation: { type: 'enum', options: ['linear', 'relu'], default: 'linear', doc: 'Activation after the convolution.' },
  },
  inputs: [{ name: 'in', doc: 'Image [B, H, W, C].', rank: 4 }],
  outputs: [{ name: 'out', doc: "Feature map [B, H', W', filters]." }],
  inferShape({ params: p, inputs }) {
    const [b, oh, ow] = window2dShape(inputs.in, 'in', p);
    return { out: [b, oh, ow, p.filters] };
  },
  build(tf, { params: p, inputs, name, init }) {
    const { sides, padding } = convPadding(p);
    const x = sides ? zeroPad(tf, inputs.in, sides, name) : inputs.in;
    const layer = tf.layers.conv2d({
      filters: p.filters,
      kernelSize: p.kernel,
      strides: p.stride,
      padding,
      dilationRate: p.dilation,
      useBias: p.useBias,
      activation: p.activation,
      kernelInitializer: init.glorotUniform(),
      name,
    });
    return { out: layer.apply(x) as never };
  },
  emit: {
    // Explicit padding exports as a zero-padding layer before a "valid" convolution, as it builds.
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: emitConvLayer('tfjs', p, { input: inputs.in, out: outputs.out, layer }, 'conv2d', { filters: p.filters, kernelSize: p.kernel }, convArgs(p, layer)),
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: emitConvLayer(
        'keras',
        p,
        { input: inputs.in, out: outputs.out, layer },
        'Conv2D',
        { filters: p.filters, kernelSize: p.kernel },
        convArgs(p, layer),
      ),
    }),
    pytorch({ params: p, inputs, inputShapes, outputs, name }) {
      const x = inputShapes.in;
      const pad = p.padding === 'explicit' ? torchExplicitPadding(p.pads) : torchWindowPadding(x, p.kernel, p.stride, p.padding, p.dilation);
      const args = [`${x[3]}, ${p.filters}, kernel_size=${p.kernel}`];
      if (p.stride !== 1) args.push(`stride=${p.stride}`);
      if (pad.arg !== '0') args.push(`padding=${pad.arg}`);
      if (p.dilation !== 1) args.push(`dilation=${p.dilation}`);
      if (!p.useBias) args.push('bias=False');
      const input = pad.pad ? `F.pad(${inputs.in}, (${pad.pad.join(', ')}))` : inputs.in;
      return {
        init: [`self.${name} = nn.Conv2d(${args.join(', ')})`],
        body: [`${outputs.out} = ${torchActivation(p.activation, `self.${name}(${input})`)}`],
        torchWeights: [{ torch: 'weight', tfjs: 'kernel', permute: CONV_KERNEL_TO_TORCH }, ...(p.useBias ? [{ torch: 'bias', tfjs: 'bias' }] : [])],
      };
    },
  },
  examples: [
    { params: { filters: 8, kernel: 3 }, inputs: { in: [null, 28, 28, 1] } },
    { params: { filters: 4, kernel: 5, stride: 2, padding: 'valid', useBias: false }, inputs: { in: [null, 17, 15, 3] } },
    { params: { filters: 4, kernel: 3, dilation: 2, padding: 'valid' }, inputs: { in: [null, 12, 12, 2] } },
    { params: { filters: 6, kernel: 3, stride: 2, padding: 'same' }, inputs: { in: [null, 7, 9, 2] } },
    { params: { filters: 4, kernel: 7, stride: 2, padding: 'explicit', pads: [3] }, inputs: { in: [null, 16, 16, 3] } },
    { params: { filters: 3, kernel: 3, stride: 2, padding: 'explicit', pads: [0, 1, 1, 2] }, inputs: { in: [null, 9, 8, 2] } },
  ],
});
