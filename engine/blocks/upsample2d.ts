import { torchHelper } from './emit/torch-helper.js';
import { defineBlock } from './contract.js';
import { expectRank } from './shape-rules.js';
import { kerasLayer, tsLayer } from './emit/snippets.js';

const KERAS_BILINEAR = `class BilinearUpSampling2D(keras.layers.Layer):
    """Bilinear upsampling by an integer factor, sampled as TensorFlow.js samples.

    Output pixel i reads input position i / factor (TensorFlow 1's resize_bilinear:
    no aligned corners, no half-pixel centres), clamped at the last pixel. Keras 3's
    UpSampling2D(interpolation="bilinear") uses half-pixel centres, which would not
    reproduce the trained model's outputs.
    """

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def _taps(self, size):
        position = ops.arange(size * self.factor, dtype="float32") / self.factor
        low = ops.cast(ops.floor(position), "int32")
        high = ops.minimum(low + 1, size - 1)
        return low, high, position - ops.cast(low, "float32")

    def call(self, x):
        top, bottom, dy = self._taps(x.shape[1])
        left, right, dx = self._taps(x.shape[2])
        dy = ops.reshape(dy, (-1, 1, 1))
        x = ops.take(x, top, axis=1) * (1 - dy) + ops.take(x, bottom, axis=1) * dy
        dx = ops.reshape(dx, (-1, 1))
        return ops.take(x, left, axis=2) * (1 - dx) + ops.take(x, right, axis=2) * dx

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        scaled = [None if d is None else d * self.factor for d in (height, width)]
        return (batch, *scaled, channels)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}`;

export default defineBlock({
  type: 'core.upsample2d',
  label: 'Upsample2D',
  category: 'Reshaping',
  doc:
    'Enlarges an NHWC image by an integer factor along height and width, with no weights: "nearest" repeats each ' +
    'pixel factor×factor times, "bilinear" interpolates. It is the decoder step of U-Net-style networks and of ' +
    'attention maps brought back to the input resolution. Bilinear sampling follows tfjs (and TensorFlow 1): output ' +
    'pixel i reads input position i / factor, not the half-pixel centres of PyTorch\'s nn.Upsample; the PyTorch ' +
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
      body: [tsLayer(outputs.out, 'upSampling2d', { size: [p.factor, p.factor], interpolation: p.interpolation === 'nearest' ? undefined : p.interpolation, name: layer }, inputs.in)],
    }),
    keras: ({ params: p, inputs, outputs, layer }) =>
      p.interpolation === 'nearest'
        ? { body: [kerasLayer(outputs.out, 'UpSampling2D', [p.factor], { name: layer }, inputs.in)] }
        : {
            body: [`${outputs.out} = BilinearUpSampling2D(${p.factor}, name=${JSON.stringify(layer)})(${inputs.in})`],
            helpers: [{ name: 'BilinearUpSampling2D', code: KERAS_BILINEAR }],
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
  examples: [
    { inputs: { in: [null, 4, 5, 3] } },
    { params: { factor: 3, interpolation: 'bilinear' }, inputs: { in: [null, 3, 2, 2] } },
  ],
});
