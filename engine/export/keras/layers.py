"""Keras 3 layers of the standard blocks that Keras lacks (copied into Keras exports).

Channels-last like the graph. Every layer is registered as serializable, so a saved
`.keras` file reloads.
"""

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="AttentionStudio")
class BilinearUpSampling2D(keras.layers.Layer):
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
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class PositionalEncoding(keras.layers.Layer):
    """Adds position information to a sequence [batch, time, features].

    Vaswani et al. (2017), "Attention Is All You Need": "sinusoidal" adds
    sin(pos / 10000^(2i/D)) to even features and cos to odd ones, with no weights;
    "learned" adds a trained row per position from a max_length x D table (BERT, GPT-2, ViT).
    """

    def __init__(self, mode="sinusoidal", max_length=512, **kwargs):
        super().__init__(**kwargs)
        self.mode = mode
        self.max_length = max_length

    def build(self, input_shape):
        if self.mode == "learned":
            self.embeddings = self.add_weight(
                name="embeddings",
                shape=(self.max_length, input_shape[-1]),
                initializer=keras.initializers.RandomNormal(stddev=0.02),
            )

    def call(self, x):
        steps, features = x.shape[1], x.shape[2]
        if self.mode == "learned":
            return x + self.embeddings[:steps]
        position = ops.arange(steps, dtype="float32")[:, None]
        pair = ops.cast(ops.arange(features) // 2 * 2, "float32")  # 2i for features 2i and 2i + 1
        angle = position / ops.power(10000.0, pair / features)
        return x + ops.where(ops.arange(features) % 2 == 0, ops.sin(angle), ops.cos(angle))

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "max_length": self.max_length}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class PaddedPool2D(keras.layers.Layer):
    """Pooling with PyTorch's explicit padding and ceil mode, which Keras's pooling layers lack.

    Pads (max pooling with -inf, so padding never wins; average pooling with zeros), pools
    "valid", and divides each average by the count PyTorch divides by: the explicit padding
    only with count_include_pad, never the extra pixels that ceil mode's last window reaches.
    `sides` is [top, bottom, left, right]. The same computation as the tfjs model's PaddedPool2D.
    """

    def __init__(self, mode, size, stride, sides, ceil_mode=False, count_include_pad=True, **kwargs):
        super().__init__(**kwargs)
        self.mode, self.size, self.stride = mode, size, stride
        self.sides, self.ceil_mode, self.count_include_pad = list(sides), ceil_mode, count_include_pad

    def _out(self, size, before, after):
        """PyTorch's output size along one axis."""
        span = size + before + after - self.size
        n = (-(-span // self.stride) if self.ceil_mode else span // self.stride) + 1
        if self.ceil_mode and (n - 1) * self.stride >= size + before:
            n -= 1
        return n

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        t, b, l, r = self.sides
        return (batch, None if height is None else self._out(height, t, b), None if width is None else self._out(width, l, r), channels)

    def call(self, x):
        k, s = self.size, self.stride
        t, b, l, r = self.sides
        h, w = x.shape[1], x.shape[2]
        # Ceil mode: only as much extra padding after the input as the last window reaches.
        eb = max(0, (self._out(h, t, b) - 1) * s + k - (h + t + b))
        er = max(0, (self._out(w, l, r) - 1) * s + k - (w + l + r))
        pads = [[0, 0], [t, b + eb], [l, r + er], [0, 0]]
        if self.mode == "max":
            return ops.max_pool(ops.pad(x, pads, constant_values=float("-inf")), k, s, padding="valid")
        total = ops.average_pool(ops.pad(x, pads), k, s, padding="valid")
        counted = ops.pad(ops.ones((1, h, w, 1)), [[0, 0], [t, b], [l, r], [0, 0]], constant_values=1.0 if self.count_include_pad else 0.0)
        divisor = ops.average_pool(ops.pad(counted, [[0, 0], [0, eb], [0, er], [0, 0]]), k, s, padding="valid")
        return total / divisor

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "size": self.size, "stride": self.stride, "sides": self.sides,
                "ceil_mode": self.ceil_mode, "count_include_pad": self.count_include_pad}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class UnbiasedBatchNormalization(layers.BatchNormalization):
    """BatchNormalization whose moving variance takes in the batch's unbiased variance, as PyTorch's BatchNorm does.

    Keras normalises the batch with its biased variance (sum of squares / n, n the values per channel) and averages
    that same variance into moving_variance; PyTorch and the app average in n / (n - 1) times it. After Keras's own
    update, moving_variance gets the (1 - momentum) * variance / (n - 1) it lacks. (A masked input keeps Keras's
    update; the exported models feed BatchNormalization no mask.)
    """

    def call(self, inputs, training=None, mask=None):
        outputs = super().call(inputs, training=training, mask=mask)
        if training and self.trainable and mask is None:
            x = ops.cast(inputs, "float32")
            axes = [a for a in range(len(x.shape)) if a != self.axis % len(x.shape)]
            _, variance = ops.moments(x, axes=axes, synchronized=self.synchronized)
            n = ops.cast(ops.size(x) // x.shape[self.axis], "float32")
            missing = (1.0 - self.momentum) * variance / ops.maximum(n - 1.0, 1.0)
            self.moving_variance.assign(self.moving_variance + ops.cast(missing, self.moving_variance.dtype))
        return outputs
