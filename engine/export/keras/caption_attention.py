"""Keras 3 layers of the caption decoders (copied into Keras exports).

Channels-last like the graph; weights are named like the compiled tfjs model's, so trained
weights load by name. Every layer is registered as serializable, so a saved `.keras` file reloads.
"""

import json

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="AttentionStudio")
class ShowAttendTell(keras.layers.Layer):
    """The soft-attention caption decoder of Show, Attend and Tell (Xu et al. 2015), with a GRU.

    The feature map [B, H, W, C] is a grid of H*W annotations a_i, each with a learned position
    embedding added. The state starts as
    tanh(mean_i a_i W_init + b); at step t alpha_ti = softmax_i(v^T tanh(a_i W_key + b_key +
    s_{t-1} W_query)), z_t = sum_i alpha_ti a_i; a GRU (gate order r, z, n, reset after the
    recurrent product) reads [E y_{t-1}, z_t]; the words are softmax([s_t, z_t, E y_{t-1}] W_out
    + b_out). With `coverage` the scorer also reads w_c * c_ti, the attention cell i received at
    earlier steps. Step 0 reads `start_token`. In training, given the true captions [B, T] (the call's
    `targets`, or `teacher_targets`, which TeacherForcing sets while fit() runs), step t reads the
    true word t-1 (teacher forcing); otherwise, and always at inference, the argmax of the step
    before (greedy decoding). Returns (words [B, T, V], attention [B, T, H, W]).
    """

    def __init__(self, steps, vocab, embedding, units, attention_units, start_token=1, coverage=False, **kwargs):
        super().__init__(**kwargs)
        self.steps, self.vocab, self.embedding_dim = steps, vocab, embedding
        self.units, self.attention_units, self.start_token = units, attention_units, start_token
        self.coverage = coverage
        self.teacher_targets = None

    def build(self, input_shape):
        c, v, e, u, a = input_shape[-1], self.vocab, self.embedding_dim, self.units, self.attention_units
        shapes = [
            ("positions", (input_shape[1] * input_shape[2], c)),
            ("init_kernel", (c, u)),
            ("init_bias", (u,)),
            ("embedding", (v, e)),
            ("key_kernel", (c, a)),
            ("key_bias", (a,)),
            ("query_kernel", (u, a)),
            ("score_vector", (a, 1)),
            ("input_kernel", (e + c, 3 * u)),
            ("recurrent_kernel", (u, 3 * u)),
            ("input_bias", (3 * u,)),
            ("recurrent_bias", (3 * u,)),
            ("output_kernel", (u + c + e, v)),
            ("output_bias", (v,)),
        ] + ([("coverage_vector", (1, a))] if self.coverage else [])
        for name, shape in shapes:
            init = "glorot_uniform" if len(shape) == 2 else "zeros"
            setattr(self, name, self.add_weight(name=name, shape=shape, initializer=init))

    def call(self, features, training=None, targets=None):
        shape = ops.shape(features)
        b, h, w, c = shape[0], shape[1], shape[2], shape[3]
        u = self.units
        annotations = ops.reshape(features, (b, h * w, c)) + self.positions
        keys = ops.matmul(annotations, self.key_kernel) + self.key_bias
        state = ops.tanh(ops.matmul(ops.mean(annotations, 1), self.init_kernel) + self.init_bias)
        word = ops.full((b,), self.start_token, dtype="int32")
        coverage = ops.zeros((b, h * w))
        if targets is None:
            targets = self.teacher_targets
        truth = ops.cast(targets, "int32") if training and targets is not None else None
        words, alphas = [], []
        for t in range(self.steps):
            hidden = keys + ops.expand_dims(ops.matmul(state, self.query_kernel), 1)
            if self.coverage:
                hidden = hidden + ops.matmul(ops.expand_dims(coverage, 2), self.coverage_vector)
            alpha = ops.softmax(ops.squeeze(ops.matmul(ops.tanh(hidden), self.score_vector), -1), axis=-1)
            coverage = coverage + alpha
            context = ops.squeeze(ops.matmul(ops.expand_dims(alpha, 1), annotations), 1)
            embedded = ops.take(self.embedding, word, axis=0)
            gx = ops.matmul(ops.concatenate([embedded, context], 1), self.input_kernel) + self.input_bias
            gh = ops.matmul(state, self.recurrent_kernel) + self.recurrent_bias
            r = ops.sigmoid(gx[:, :u] + gh[:, :u])
            z = ops.sigmoid(gx[:, u : 2 * u] + gh[:, u : 2 * u])
            n = ops.tanh(gx[:, 2 * u :] + r * gh[:, 2 * u :])
            state = (1 - z) * n + z * state
            logits = ops.matmul(ops.concatenate([state, context, embedded], 1), self.output_kernel) + self.output_bias
            words.append(ops.softmax(logits, axis=-1))
            alphas.append(alpha)
            word = ops.maximum(truth[:, t], 0) if truth is not None else ops.cast(ops.argmax(logits, axis=-1), "int32")
        return ops.stack(words, 1), ops.reshape(ops.stack(alphas, 1), (b, self.steps, h, w))

    @staticmethod
    def vocabulary(path=None):
        """The caption words by id that `attn export --weights RUN` writes beside the model, <model>.vocabulary.json
        (by default beside this file)."""
        import os

        path = path or os.path.splitext(os.path.abspath(__file__))[0] + ".vocabulary.json"
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)["words"]
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: no caption words beside the model; export it with `attn export --weights RUN`, or pass the words") from None

    @staticmethod
    def captions(words, vocabulary=None, end_token=2):
        """The greedy captions of words [B, T, V] (what the model predicts): each step's argmax, up to `end_token`,
        as strings of `vocabulary`'s words (by default those beside the model; special tokens below the end token
        left out), as `attn predict` prints them."""
        vocabulary = ShowAttendTell.vocabulary() if vocabulary is None else vocabulary
        texts = []
        for ids in np.asarray(words).argmax(-1).tolist():
            kept = []
            for i in ids:
                if i == end_token:
                    break
                if i > end_token:
                    kept.append(vocabulary[i])
            texts.append(" ".join(kept))
        return texts

    def get_config(self):
        return {
            **super().get_config(),
            "steps": self.steps,
            "vocab": self.vocab,
            "embedding": self.embedding_dim,
            "units": self.units,
            "attention_units": self.attention_units,
            "start_token": self.start_token,
            "coverage": self.coverage,
        }


class TeacherForcing(keras.Model):
    """Trains a captioner with teacher forcing, as Attention Studio's trainer does.

    Keras's fit() hands a model its inputs only, so a ShowAttendTell decoder trained by it would
    read its own greedy words. This wrapper takes the model's inputs and then the captions [B, T]
    (inputs(x, y) builds that list) and, in training, hands the captions to the model's decoders
    (`teacher_targets`) for the call; without training (validation, predict) they decode greedily.
    It shares the model and its weights: fit the wrapper, then use or save the model itself.
    """

    def __init__(self, captioner, **kwargs):
        super().__init__(**kwargs)
        self.captioner = captioner

    @staticmethod
    def inputs(x, y):
        """The wrapper's inputs: the model's (a list, one array per input), then the first output's labels as
        class ids [B, T] (-1 where the caption has ended; one-hot rows are read by their argmax)."""
        labels = np.asarray(y[0])
        if not np.issubdtype(labels.dtype, np.integer):
            labels = np.where(labels.sum(-1) > 0, labels.argmax(-1), -1)
        return [*x, labels.astype("int32")]

    def call(self, inputs, training=False):
        *xs, captions = inputs
        decoders = [layer for layer in self.captioner.layers if isinstance(layer, ShowAttendTell)]
        for decoder in decoders:
            decoder.teacher_targets = captions if training else None
        try:
            return self.captioner(xs if len(xs) > 1 else xs[0], training=training)
        finally:
            for decoder in decoders:
                decoder.teacher_targets = None
