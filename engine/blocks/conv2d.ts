import { defineBlock } from './contract.js';
import { convWindowParams, emitZeroPad, padForWindow, torchExplicitPadding, window2dShape, windowSettings } from './window2d.js';
import { CONV_KERNEL_TO_TORCH, kerasLayer, torchActivation, torchWindowPadding, tsLayer } from './emit/snippets.js';

/** The bias and activation settings of an exported layer, tfjs's defaults (a bias, "linear") left out. */
const biasAndActivation = (p: { useBias: boolean; activation: string }) => ({
  bias: p.useBias ? undefined : false,
  activation: p.activation === 'linear' ? undefined : p.activation,
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
    ...convWindowParams,
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
    const layer = tf.layers.conv2d({
      filters: p.filters,
      kernelSize: p.kernel,
      strides: p.stride,
      padding: p.padding === 'explicit' ? 'valid' : p.padding,
      dilationRate: p.dilation,
      useBias: p.useBias,
      activation: p.activation,
      kernelInitializer: init.glorotUniform(),
      name,
    });
    return { out: layer.apply(padForWindow(tf, inputs.in, p, name)) as never };
  },
  emit: {
    // Explicit padding exports as a zero-padding layer before a "valid" convolution, as it builds.
    tfjs({ params: p, inputs, outputs, layer }) {
      const { x, body } = emitZeroPad('tfjs', p, inputs.in, outputs.out, layer);
      const { bias, activation } = biasAndActivation(p);
      const config = { filters: p.filters, kernelSize: p.kernel, ...windowSettings('tfjs', p), useBias: bias, activation, name: layer };
      return { body: [...body, tsLayer(outputs.out, 'conv2d', config, x)] };
    },
    keras({ params: p, inputs, outputs, layer }) {
      const { x, body } = emitZeroPad('keras', p, inputs.in, outputs.out, layer);
      const { bias, activation } = biasAndActivation(p);
      const config = { ...windowSettings('keras', p), use_bias: bias, activation, name: layer };
      return { body: [...body, kerasLayer(outputs.out, 'Conv2D', [p.filters, p.kernel], config, x)] };
    },
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
