"""Keras 3 layers of the sequence attention blocks (copied into Keras exports).

Channels-last like the graph; inner layers are named like the compiled tfjs model's
(`{name}_fc1`, `{name}_norm1`, ...), so trained weights load by name. Every layer is
registered as serializable, so a saved `.keras` file reloads.
"""

import keras
from keras import layers, ops


def masked_softmax(scores, padding_mask=None, causal=False):
    """Softmax of attention scores [..., Tq, Tk] over the keys.

    `padding_mask` [B, Tk] keeps a key where it is non-zero; `causal` hides the keys after each
    query. A hidden score becomes -1e9, as in the tfjs model. (The layers take it as
    `padding_mask`: Keras reserves a call argument named `mask` for its own masking.)
    """
    if padding_mask is not None:
        keep = ops.not_equal(padding_mask, 0)
        for _ in range(len(scores.shape) - 2):
            keep = ops.expand_dims(keep, 1)
        scores = ops.where(keep, scores, -1e9)
    if causal:
        lower = ops.tril(ops.ones((scores.shape[-2], scores.shape[-1])))
        scores = ops.where(lower > 0, scores, -1e9)
    return ops.softmax(scores, axis=-1)


@keras.saving.register_keras_serializable(package="AttentionStudio")
class ScaledDotProductAttention(keras.layers.Layer):
    """Scaled dot-product attention (Vaswani et al. 2017, "Attention Is All You Need", eq. 1).

    softmax(Q K^T / sqrt(d_k)) V, no weights. `padding_mask` [B, Tk] keeps a key where it is 1.
    Returns (context [B, Tq, d_v], weights [B, Tq, Tk]).
    """

    def __init__(self, causal=False, **kwargs):
        super().__init__(**kwargs)
        self.causal = causal

    def call(self, query, key, value, padding_mask=None):
        scores = ops.matmul(query, ops.transpose(key, (0, 2, 1))) / key.shape[-1] ** 0.5
        weights = masked_softmax(scores, padding_mask, self.causal)
        return ops.matmul(weights, value), weights

    def get_config(self):
        return {**super().get_config(), "causal": self.causal}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention (Vaswani et al. 2017, "Attention Is All You Need", section 3.2.2).

    Laid out like PyTorch's nn.MultiheadAttention (separate query/key/value/output Dense
    projections, heads as contiguous slices), not like keras.layers.MultiHeadAttention.
    `padding_mask` [B, Tk] keeps a key where it is 1. Returns (y [B, Tq, embed_dim], weights
    [B, num_heads, Tq, Tk]); the weights are taken before dropout.
    """

    def __init__(self, embed_dim, num_heads, head_dim=None, value_head_dim=None, use_bias=True, dropout=0.0,
                 causal=False, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim, self.num_heads, self.causal = embed_dim, num_heads, causal
        self.head_dim = head_dim or embed_dim // num_heads
        self.value_head_dim = value_head_dim or embed_dim // num_heads
        self.use_bias, self.rate = use_bias, dropout
        self.query_proj = layers.Dense(num_heads * self.head_dim, use_bias=use_bias, name=f"{self.name}_query")
        self.key_proj = layers.Dense(num_heads * self.head_dim, use_bias=use_bias, name=f"{self.name}_key")
        self.value_proj = layers.Dense(num_heads * self.value_head_dim, use_bias=use_bias, name=f"{self.name}_value")
        self.output_proj = layers.Dense(embed_dim, use_bias=use_bias, name=f"{self.name}_output")
        self.dropout = layers.Dropout(dropout)

    def _heads(self, x, size):
        """[B, T, heads * size] -> [B, heads, T, size]."""
        return ops.transpose(ops.reshape(x, (-1, x.shape[1], self.num_heads, size)), (0, 2, 1, 3))

    def call(self, query, key=None, value=None, padding_mask=None, training=None):
        key = query if key is None else key
        value = key if value is None else value
        q = self._heads(self.query_proj(query), self.head_dim)
        k = self._heads(self.key_proj(key), self.head_dim)
        v = self._heads(self.value_proj(value), self.value_head_dim)
        scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))) / self.head_dim ** 0.5
        weights = masked_softmax(scores, padding_mask, self.causal)
        context = ops.matmul(self.dropout(weights, training=training), v)
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (-1, query.shape[1], self.num_heads * self.value_head_dim))
        return self.output_proj(context), weights

    def get_config(self):
        return {**super().get_config(), "embed_dim": self.embed_dim, "num_heads": self.num_heads,
                "head_dim": self.head_dim, "value_head_dim": self.value_head_dim, "use_bias": self.use_bias,
                "dropout": self.rate, "causal": self.causal}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class TransformerEncoderLayer(keras.layers.Layer):
    """One Transformer encoder layer (Vaswani et al. 2017, "Attention Is All You Need", section 3.1).

    Multi-head self-attention and a position-wise feed-forward network, each in a residual
    connection with LayerNorm (epsilon layer_norm_eps): after the sum (post-norm, the paper) or before the
    sublayer (norm_first=True, pre-norm; Xiong et al. 2020). Same sublayers as PyTorch's
    nn.TransformerEncoderLayer. Returns (y [B, T, d_model], self-attention weights [B, heads, T, T]).
    """

    def __init__(self, d_model, num_heads, ff_dim, dropout=0.1, activation="relu", norm_first=False, causal=False,
                 layer_norm_eps=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.num_heads, self.ff_dim = d_model, num_heads, ff_dim
        self.rate, self.activation, self.norm_first, self.causal = dropout, activation, norm_first, causal
        self.layer_norm_eps = layer_norm_eps
        self.ff1 = layers.Dense(ff_dim, activation=activation, name=f"{self.name}_ff1")
        self.ff2 = layers.Dense(d_model, name=f"{self.name}_ff2")
        self.dropout = layers.Dropout(dropout)
        self.self_attention = MultiHeadAttention(d_model, num_heads, dropout=dropout, causal=causal, name=f"{self.name}_self")
        self.norm1 = layers.LayerNormalization(epsilon=layer_norm_eps, name=f"{self.name}_norm1")
        self.norm2 = layers.LayerNormalization(epsilon=layer_norm_eps, name=f"{self.name}_norm2")

    def call(self, x, padding_mask=None, training=None):
        if self.norm_first:
            h, weights = self.self_attention(self.norm1(x), padding_mask=padding_mask, training=training)
            x = x + self.dropout(h, training=training)
            x = x + self.dropout(self._feed_forward(self.norm2(x), training), training=training)
        else:
            h, weights = self.self_attention(x, padding_mask=padding_mask, training=training)
            x = self.norm1(x + self.dropout(h, training=training))
            x = self.norm2(x + self.dropout(self._feed_forward(x, training), training=training))
        return x, weights

    def _feed_forward(self, x, training):
        return self.ff2(self.dropout(self.ff1(x), training=training))

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model, "num_heads": self.num_heads, "ff_dim": self.ff_dim,
                "dropout": self.rate, "activation": self.activation, "norm_first": self.norm_first,
                "causal": self.causal, "layer_norm_eps": self.layer_norm_eps}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class TransformerDecoderLayer(keras.layers.Layer):
    """One Transformer decoder layer (Vaswani et al. 2017, "Attention Is All You Need", section 3.1).

    (Causal) self-attention over the target, cross-attention from the target to the encoder
    output (memory) and a position-wise feed-forward network, each in a residual connection
    with LayerNorm (epsilon layer_norm_eps), post-norm (the paper) or pre-norm (norm_first=True). Same
    sublayers as PyTorch's nn.TransformerDecoderLayer. Returns (y [B, T, d_model], self-attention
    weights [B, heads, T, T], cross-attention weights [B, heads, T, S]).
    """

    def __init__(self, d_model, num_heads, ff_dim, dropout=0.1, activation="relu", norm_first=False, causal=True,
                 layer_norm_eps=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.num_heads, self.ff_dim = d_model, num_heads, ff_dim
        self.rate, self.activation, self.norm_first, self.causal = dropout, activation, norm_first, causal
        self.layer_norm_eps = layer_norm_eps
        self.ff1 = layers.Dense(ff_dim, activation=activation, name=f"{self.name}_ff1")
        self.ff2 = layers.Dense(d_model, name=f"{self.name}_ff2")
        self.dropout = layers.Dropout(dropout)
        self.self_attention = MultiHeadAttention(d_model, num_heads, dropout=dropout, causal=causal, name=f"{self.name}_self")
        self.cross_attention = MultiHeadAttention(d_model, num_heads, dropout=dropout, name=f"{self.name}_cross")
        self.norm1 = layers.LayerNormalization(epsilon=layer_norm_eps, name=f"{self.name}_norm1")
        self.norm2 = layers.LayerNormalization(epsilon=layer_norm_eps, name=f"{self.name}_norm2")
        self.norm3 = layers.LayerNormalization(epsilon=layer_norm_eps, name=f"{self.name}_norm3")

    def call(self, x, memory, padding_mask=None, memory_padding_mask=None, training=None):
        if self.norm_first:
            h, self_weights = self.self_attention(self.norm1(x), padding_mask=padding_mask, training=training)
            x = x + self.dropout(h, training=training)
            h, cross_weights = self.cross_attention(self.norm2(x), memory, padding_mask=memory_padding_mask, training=training)
            x = x + self.dropout(h, training=training)
            x = x + self.dropout(self._feed_forward(self.norm3(x), training), training=training)
        else:
            h, self_weights = self.self_attention(x, padding_mask=padding_mask, training=training)
            x = self.norm1(x + self.dropout(h, training=training))
            h, cross_weights = self.cross_attention(x, memory, padding_mask=memory_padding_mask, training=training)
            x = self.norm2(x + self.dropout(h, training=training))
            x = self.norm3(x + self.dropout(self._feed_forward(x, training), training=training))
        return x, self_weights, cross_weights

    def _feed_forward(self, x, training):
        return self.ff2(self.dropout(self.ff1(x), training=training))

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model, "num_heads": self.num_heads, "ff_dim": self.ff_dim,
                "dropout": self.rate, "activation": self.activation, "norm_first": self.norm_first,
                "causal": self.causal, "layer_norm_eps": self.layer_norm_eps}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class AdditiveAttention(keras.layers.Layer):
    """Additive attention (Bahdanau, Cho & Bengio 2014, "Neural Machine Translation by Jointly
    Learning to Align and Translate").

    e_ij = v^T tanh(W_q q_i + W_k k_j); the weights are softmax(e) over the keys and the context
    their average of the values (the keys, if none are given). `padding_mask` [B, Tk] keeps a key where
    it is 1. Returns (context [B, Tq, Dv], weights [B, Tq, Tk]).
    """

    def __init__(self, units, use_bias=False, **kwargs):
        super().__init__(**kwargs)
        self.units, self.use_bias = units, use_bias
        self.w_query = layers.Dense(units, use_bias=use_bias, name=f"{self.name}_wq")
        self.w_key = layers.Dense(units, use_bias=use_bias, name=f"{self.name}_wk")
        self.v = layers.Dense(1, use_bias=False, name=f"{self.name}_v")

    def call(self, query, keys, values=None, padding_mask=None):
        values = keys if values is None else values
        hidden = ops.tanh(ops.expand_dims(self.w_query(query), 2) + ops.expand_dims(self.w_key(keys), 1))
        weights = masked_softmax(ops.squeeze(self.v(hidden), -1), padding_mask)
        return ops.matmul(weights, values), weights

    def get_config(self):
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class AttentionPooling(keras.layers.Layer):
    """Attention pooling (Yang et al. 2016, "Hierarchical Attention Networks for Document
    Classification"): u_t = tanh(W h_t + b), alpha = softmax(u_t^T u_w) over the steps, out =
    sum_t alpha_t h_t. `padding_mask` [B, T] keeps a step where it is non-zero (token ids work:
    padding is id 0). Returns (out [B, D], weights [B, T]).
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.proj = layers.Dense(units, activation="tanh", name=f"{self.name}_proj")
        self.context = layers.Dense(1, use_bias=False, name=f"{self.name}_context")

    def call(self, x, padding_mask=None):
        scores = ops.squeeze(self.context(self.proj(x)), -1)
        weights = ops.squeeze(masked_softmax(ops.expand_dims(scores, 1), padding_mask), 1)
        return ops.sum(ops.expand_dims(weights, -1) * x, axis=1), weights

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class LuongAttention(keras.layers.Layer):
    """Global attention of Luong, Pham & Manning (2015, "Effective Approaches to Attention-based
    Neural Machine Translation", section 3.1).

    Scores: "dot" h_t^T h_s, "general" h_t^T W_a h_s, or "concat" v_a^T tanh(W_a [h_t; h_s]) with
    W_a split into its query and key columns. The weights are the softmax of the scores over the
    source and the context their average of the values (the keys, if none are given). `padding_mask`
    [B, Tk] keeps a key where it is 1. Returns (context [B, Tq, Dv], weights [B, Tq, Tk]).
    """

    def __init__(self, key_dim, score="general", units=32, **kwargs):
        super().__init__(**kwargs)
        self.key_dim, self.score, self.units = key_dim, score, units
        if score == "general":
            self.w_a = layers.Dense(key_dim, use_bias=False, name=f"{self.name}_wa")
        elif score == "concat":
            self.w_query = layers.Dense(units, use_bias=False, name=f"{self.name}_wq")
            self.w_key = layers.Dense(units, use_bias=False, name=f"{self.name}_wk")
            self.v_a = layers.Dense(1, use_bias=False, name=f"{self.name}_v")

    def call(self, query, keys, values=None, padding_mask=None):
        values = keys if values is None else values
        if self.score == "concat":
            hidden = ops.tanh(ops.expand_dims(self.w_query(query), 2) + ops.expand_dims(self.w_key(keys), 1))
            scores = ops.squeeze(self.v_a(hidden), -1)
        else:
            q = self.w_a(query) if self.score == "general" else query
            scores = ops.matmul(q, ops.transpose(keys, (0, 2, 1)))
        weights = masked_softmax(scores, padding_mask)
        return ops.matmul(weights, values), weights

    def get_config(self):
        return {**super().get_config(), "key_dim": self.key_dim, "score": self.score, "units": self.units}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class MemoryNetwork(keras.layers.Layer):
    """The hops of an end-to-end memory network (Sukhbaatar et al. 2015, "End-To-End Memory
    Networks", section 2).

    u = B q; hop k reads p = softmax(u^T A^k x_i), o = sum_i p_i C^k x_i, and updates u <- u + o.
    Weight tying (section 2.2): "adjacent" (embeddings E_0..E_K, A^k = E_(k-1), C^k = E_k, B = E_0)
    or "layerwise" (one A and one C, and u <- H u + o). `padding_mask` [B, N] keeps a memory item where it
    is 1. Returns (u [B, dim], read weights of every hop [B, hops, N]).
    """

    def __init__(self, dim, hops, tying="adjacent", **kwargs):
        super().__init__(**kwargs)
        self.dim, self.hops, self.tying = dim, hops, tying
        dense = lambda suffix: layers.Dense(dim, use_bias=False, name=f"{self.name}_{suffix}")
        if tying == "adjacent":
            self.embeddings = [dense(f"embed{i}") for i in range(hops + 1)]
        else:
            self.A, self.C, self.B, self.H = dense("a"), dense("c"), dense("b"), dense("h")

    def call(self, memory, query, padding_mask=None):
        adjacent = self.tying == "adjacent"
        if adjacent:
            embedded = [e(memory) for e in self.embeddings]
            u = self.embeddings[0](query)
        else:
            m, c = self.A(memory), self.C(memory)
            u = self.B(query)
        reads = []
        for k in range(1, self.hops + 1):
            if adjacent:
                m, c = embedded[k - 1], embedded[k]
            p = masked_softmax(ops.squeeze(ops.matmul(m, ops.expand_dims(u, -1)), -1), padding_mask)  # [B, N]
            o = ops.squeeze(ops.matmul(ops.expand_dims(p, 1), c), 1)
            u = (u if adjacent else self.H(u)) + o
            reads.append(p)
        return u, ops.stack(reads, axis=1)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "hops": self.hops, "tying": self.tying}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class PatchEmbedding(keras.layers.Layer):
    """The Vision Transformer's patch embedding (Dosovitskiy et al. 2021, "An Image is Worth 16x16
    Words", eq. 1).

    The image [B, H, W, C] is cut into patch x patch patches, each projected to `dim` features (a
    convolution with stride = kernel = patch), giving tokens [B, N, dim] in row-major order over the
    patch grid; an optional learned class token goes in front and optional learned position
    embeddings are added. Returns [B, N (+1), dim].
    """

    # Weights the tfjs model keeps in a sublayer of its own (see runtime.weight_key).
    tfjs_weight_names = {"token": "_cls/token", "table": "_pos/table"}

    def __init__(self, dim, patch, class_token=True, positions=True, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.patch, self.class_token, self.positions = dim, patch, class_token, positions
        self.proj = layers.Conv2D(dim, patch, strides=patch, name=f"{self.name}_proj")

    def build(self, input_shape):
        init = keras.initializers.TruncatedNormal(stddev=0.02)
        tokens = (input_shape[1] // self.patch) * (input_shape[2] // self.patch) + int(self.class_token)
        if self.class_token:
            self.token = self.add_weight(shape=(1, 1, self.dim), initializer=init, name="token")
        if self.positions:
            self.table = self.add_weight(shape=(tokens, self.dim), initializer=init, name="table")

    def call(self, x):
        x = self.proj(x)
        x = ops.reshape(x, (-1, x.shape[1] * x.shape[2], self.dim))
        if self.class_token:
            x = ops.concatenate([ops.tile(self.token, (ops.shape(x)[0], 1, 1)), x], axis=1)
        if self.positions:
            x = x + self.table
        return x

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "patch": self.patch, "class_token": self.class_token,
                "positions": self.positions}
