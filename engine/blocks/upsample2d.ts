import { kerasHelper, torchHelper } from './emit/torch-helper.js';
import { defineBlock } from './contract.js';
import { expectRank } from './shape-rules.js';
import { kerasLayer, tsLayer } from './emit/snippets.js';

export default defineBlock({
  type: 'core.upsample2d',
  label: 'Upsample2D',
  category: 'Reshaping',
  doc:
    'Enlarges an NHWC image by an integer factor along height and width, with no weights: "nearest" repeats each ' +
    'pixel factor×factor times, "bilinear" interpolates. It is the decoder step of U-Net-style networks and of ' +
    'attention maps brought back to the input resolution. Bilinear sampling follows tfjs (and TensorFlow 1): output ' +
    "pixel i reads input position i / factor, not the half-pixel centres of PyTorch's nn.Upsample; the PyTorch " +
    'and Keras exports reproduce that sampling with a small resize of their own.',
  params: {
    factor: { type: 'int', default: 2, min: 1, max: 32, doc: 'Scale factor for height and width.' },
    interpolation: { type: 'enum', options: ['nearest', 'bilinear'], default: 'nearest', doc: 'How new pixels are filled.' },
  },
  inputs: [{ name: 'in', doc: 'Image [B, H, W, C].', rank: 4 }],
  outputs: [{ name: 'out', doc: '[B, H × factor, W × factor, C].' }],
  inferShape({ params: p, inputs }) {
    const [b, h, w, c] = expectRank(inputs.in, 'in', 4, 'an NHWC image');
    const up = (d: number | null) => (d === null ? null : d * p.factor);
    return { out: [b, up(h), up(w), c] };
  },
  build(tf, { params: p, inputs, name }) {
    const layer = tf.layers.upSampling2d({ size: [p.factor, p.factor], interpolation: p.interpolation, name });
    return { out: layer.apply(inputs.in) as never };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        tsLayer(
          outputs.out,
          'upSampling2d',
          { size: [p.factor, p.factor], interpolation: p.interpolation === 'nearest' ? undefined : p.interpolation, name: layer },
          inputs.in,
        ),
      ],
    }),
    keras: ({ params: p, inputs, outputs, layer }) =>
      p.interpolation === 'nearest'
        ? { body: [kerasLayer(outputs.out, 'UpSampling2D', [p.factor], { name: layer }, inputs.in)] }
        : {
            body: [`${outputs.out} = BilinearUpSampling2D(${p.factor}, name=${JSON.stringify(layer)})(${inputs.in})`],
            helpers: [kerasHelper('BilinearUpSampling2D', 'layers.py')],
          },
    pytorch: ({ params: p, inputs, outputs, name }) =>
      p.interpolation === 'nearest'
        ? { body: [`${outputs.out} = F.interpolate(${inputs.in}, scale_factor=${p.factor}, mode="nearest")`] }
        : {
            init: [`self.${name} = BilinearUpsample2d(factor=${p.factor})`],
            body: [`${outputs.out} = self.${name}(${inputs.in})`],
            helpers: [torchHelper('BilinearUpsample2d', 'layers.py')],
          },
  },
  examples: [{ inputs: { in: [null, 4, 5, 3] } }, { params: { factor: 3, interpolation: 'bilinear' }, inputs: { in: [null, 3, 2, 2] } }],
});
