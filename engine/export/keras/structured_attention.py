"""Keras 3 layers of the structured attention blocks (copied into Keras exports).

Channels-last like the graph; inner layers are named like the compiled tfjs model's
(`{name}_fc1`, `{name}_norm1`, ...), so trained weights load by name. Every layer is
registered as serializable, so a saved `.keras` file reloads.
"""

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="AttentionStudio")
class PreActBottleneck(keras.layers.Layer):
    """Pre-activation bottleneck residual unit, width C/4, convolutions without bias.

    He, Zhang, Ren & Sun (2016). Identity Mappings in Deep Residual Networks.
    y = x + conv1x1(BN-ReLU(conv3x3(BN-ReLU(conv1x1(BN-ReLU(x)))))).
    """

    def build(self, input_shape):
        channels = input_shape[-1]
        shape = lambda c: (*input_shape[:-1], c)
        self.bns, self.convs = [], []
        for i, (filters, kernel, width_in) in enumerate([(channels // 4, 1, channels), (channels // 4, 3, channels // 4), (channels, 1, channels // 4)], 1):
            bn = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{self.name}_bn{i}")
            conv = layers.Conv2D(filters, kernel, padding="same", use_bias=False, kernel_initializer="he_normal", name=f"{self.name}_conv{i}")
            bn.build(shape(width_in))
            conv.build(shape(width_in))
            self.bns.append(bn)
            self.convs.append(conv)

    def call(self, x, training=None):
        y = x
        for bn, conv in zip(self.bns, self.convs):
            y = conv(ops.relu(bn(y, training=training)))
        return x + y


@keras.saving.register_keras_serializable(package="AttentionStudio")
class ResidualAttention(keras.layers.Layer):
    """The attention module of the Residual Attention Network.

    Wang, Jiang, Qian, Yang, Li, Zhang, Wang & Tang (2017). Residual Attention Network for
    Image Classification.
    p pre-processing units; a trunk of t units; a soft-mask hourglass (levels times a 3x3
    stride-2 max-pool and r units, with skip connections, then upsampling back up,
    BN-ReLU-conv1x1 twice and a sigmoid); out = post((1 + M) * T). Returns the output, the
    mask M [B, H, W, C] and its mean over channels [B, H, W].
    """

    def __init__(self, p=1, t=2, r=1, levels=2, upsample="bilinear", **kwargs):
        super().__init__(**kwargs)
        self.p, self.t, self.r, self.levels, self.upsample = p, t, r, levels, upsample

    def build(self, input_shape):
        units = lambda n, prefix: [PreActBottleneck(name=f"{self.name}_{prefix}{i}") for i in range(1, n + 1)]
        self.pre, self.trunk, self.post = units(self.p, "pre"), units(self.t, "trunk"), units(self.p, "post")
        self.pools = [layers.MaxPooling2D(3, 2, padding="same", name=f"{self.name}_mask_pool{l}") for l in range(1, self.levels + 1)]
        # Flat lists (r units per level), which Keras tracks.
        self.down = [unit for l in range(1, self.levels + 1) for unit in units(self.r, f"mask_down{l}_")]
        self.skips = [PreActBottleneck(name=f"{self.name}_mask_skip{l}") for l in range(1, self.levels)]
        self.bottom = units(self.r, "mask_bottom")
        self.up = [unit for l in range(1, self.levels) for unit in units(self.r, f"mask_up{l}_")]
        self.head_bns = [layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{self.name}_mask_bn{k}") for k in (1, 2)]
        self.head_convs = [
            layers.Conv2D(input_shape[-1], 1, use_bias=False, kernel_initializer="he_normal", name=f"{self.name}_mask_conv{k}") for k in (1, 2)
        ]

    def resize(self, x, height, width):
        """Resizes to an exact size: bilinear with aligned corners (as Caffe's Interp), or nearest."""
        for axis, n_out in ((1, height), (2, width)):
            n_in = x.shape[axis]
            shape = [1, 1, 1, 1]
            shape[axis] = n_out
            if self.upsample == "nearest":
                x = ops.take(x, [min(n_in - 1, int(i * n_in / n_out)) for i in range(n_out)], axis=axis)
                continue
            scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
            lo = [int(i * scale) for i in range(n_out)]
            hi = [min(i + 1, n_in - 1) for i in lo]
            frac = ops.reshape(ops.convert_to_tensor([i * scale - j for i, j in enumerate(lo)], dtype=x.dtype), shape)
            x = ops.take(x, lo, axis=axis) * (1 - frac) + ops.take(x, hi, axis=axis) * frac
        return x

    def call(self, x, training=None):
        def run(units, y):
            for unit in units:
                y = unit(y, training=training)
            return y

        x = run(self.pre, x)
        trunk = run(self.trunk, x)
        m, skips = x, []
        for level in range(self.levels):
            m = run(self.down[level * self.r : (level + 1) * self.r], self.pools[level](m))
            if level < self.levels - 1:
                skips.append(self.skips[level](m, training=training))
        m = run(self.bottom, m)
        for level in reversed(range(self.levels - 1)):
            skip = skips[level]
            m = run(self.up[level * self.r : (level + 1) * self.r], self.resize(m, skip.shape[1], skip.shape[2]) + skip)
        m = self.resize(m, trunk.shape[1], trunk.shape[2])
        for bn, conv in zip(self.head_bns, self.head_convs):
            m = conv(ops.relu(bn(m, training=training)))
        mask = ops.sigmoid(m)
        return run(self.post, trunk + mask * trunk), mask, ops.mean(mask, axis=-1)

    def get_config(self):
        return {**super().get_config(), "p": self.p, "t": self.t, "r": self.r, "levels": self.levels, "upsample": self.upsample}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class AttendRectify(keras.layers.Layer):
    """An attention module of Attend and Rectify.

    Rodriguez, Gonfaus, Cucurull, Roca & Gonzalez (2018). Attend and Rectify: a Gated
    Attention Mechanism for Fine-Grained Recovery.
    K attention heads (softmax over positions) weigh K output heads into hypotheses o_k;
    gates g = softmax_k(tanh(sum_xy (W_g * Z) H_k)) mix them. Returns the hypothesis
    sum_k g_k o_k [B, classes] (logits), the maps H [B, H, W, K] and the gates [B, K].
    """

    def __init__(self, heads, classes, kernel_size=1, **kwargs):
        super().__init__(**kwargs)
        self.heads, self.classes, self.kernel_size = heads, classes, kernel_size

    def build(self, input_shape):
        conv = lambda filters, suffix: layers.Conv2D(
            filters, self.kernel_size, padding="same", use_bias=False, kernel_initializer="he_normal", name=f"{self.name}_{suffix}"
        )
        self.attention = conv(self.heads, "attention")
        self.output_heads = conv(self.heads * self.classes, "outputs")
        self.gate_scores = conv(self.heads, "gate_scores")
        for layer in (self.attention, self.output_heads, self.gate_scores):
            layer.build(input_shape)

    def call(self, z):
        _, h, w, _ = z.shape
        n = h * w
        maps = ops.softmax(ops.reshape(self.attention(z), (-1, n, self.heads)), axis=1)  # [B, HW, K]
        outputs = ops.reshape(self.output_heads(z), (-1, n, self.heads, self.classes))
        hypotheses = ops.einsum("bnk,bnkc->bkc", maps, outputs)
        scores = ops.sum(maps * ops.reshape(self.gate_scores(z), (-1, n, self.heads)), axis=1)
        gates = ops.softmax(ops.tanh(scores), axis=-1)
        out = ops.einsum("bk,bkc->bc", gates, hypotheses)
        return out, ops.reshape(maps, (-1, h, w, self.heads)), gates

    def get_config(self):
        return {**super().get_config(), "heads": self.heads, "classes": self.classes, "kernel_size": self.kernel_size}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class GlobalGate(keras.layers.Layer):
    """The global attention gates of Attend and Rectify.

    Rodriguez, Gonfaus, Cucurull, Roca & Gonzalez (2018). Attend and Rectify: a Gated
    Attention Mechanism for Fine-Grained Recovery.
    Call with [net, hyp_1, ..., hyp_N] or [net, hyp_1, ..., hyp_N, features]. Gates
    g = softmax(tanh(W f)) from the features (pooled if a feature map; the network output if
    none) weigh the network's class distribution and softmax(o_l) of each hypothesis.
    Returns the mixture [B, classes] and the gates [B, N + 1].
    """

    def __init__(self, hypotheses, net_is_logits=False, **kwargs):
        super().__init__(**kwargs)
        self.hypotheses, self.net_is_logits = hypotheses, net_is_logits

    def build(self, input_shape):
        self.gates = layers.Dense(self.hypotheses + 1, use_bias=False, name=f"{self.name}_gates")
        features_shape = input_shape[self.hypotheses + 1] if len(input_shape) > self.hypotheses + 1 else input_shape[0]
        self.gates.build((None, features_shape[-1]))

    def call(self, inputs):
        net, hypotheses = inputs[0], inputs[1 : self.hypotheses + 1]
        f = inputs[self.hypotheses + 1] if len(inputs) > self.hypotheses + 1 else net
        if len(f.shape) == 4:
            f = ops.mean(f, axis=(1, 2))
        gates = ops.softmax(ops.tanh(self.gates(f)), axis=-1)
        probs = [ops.softmax(net, axis=-1) if self.net_is_logits else net] + [ops.softmax(h, axis=-1) for h in hypotheses]
        return ops.einsum("bs,bsc->bc", gates, ops.stack(probs, axis=1)), gates

    def get_config(self):
        return {**super().get_config(), "hypotheses": self.hypotheses, "net_is_logits": self.net_is_logits}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class LocalSelfAttention2d(keras.layers.Layer):
    """Stand-alone local self-attention over each position's k x k neighbourhood.

    Ramachandran, Parmar, Vaswani, Bello, Levskaya & Shlens (2019). Stand-Alone
    Self-Attention in Vision Models.
    y_ij = sum_ab softmax_ab(q_ij . k_ab + q_ij . r_(a-i, b-j)) v_ab, q, k, v bias-free 1x1
    projections split into heads; r is concat(row embedding, column embedding). Neighbours off
    the image are masked out of the softmax. Returns y and the weights [B, heads, HW, k*k].
    """

    # Weights the tfjs model keeps in a sublayer of its own (see runtime.weight_key).
    tfjs_weight_names = {"row_embedding": "_attention/row_embedding", "col_embedding": "_attention/col_embedding"}

    def __init__(self, channels, heads, kernel_size, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.heads, self.kernel_size = channels, heads, kernel_size

    def build(self, input_shape):
        conv = lambda suffix: layers.Conv2D(self.channels, 1, use_bias=False, name=f"{self.name}_{suffix}")
        self.query, self.key, self.value = conv("query"), conv("key"), conv("value")
        for layer in (self.query, self.key, self.value):
            layer.build(input_shape)
        normal = keras.initializers.RandomNormal(stddev=1.0)
        self.row_embedding = self.add_weight(shape=(self.kernel_size, self.channels // 2), initializer=normal, name="row_embedding")
        self.col_embedding = self.add_weight(shape=(self.kernel_size, self.channels // 2), initializer=normal, name="col_embedding")

    def call(self, x):
        _, h, w, _ = x.shape
        k, heads, c = self.kernel_size, self.heads, self.channels
        n, kk, d = h * w, k * k, c // heads
        # Each position's window, row-major; neighbours off the image point at the position itself and are masked.
        index, mask = [], []
        for i in range(h):
            for j in range(w):
                for a in range(k):
                    for b in range(k):
                        y, z = i + a - k // 2, j + b - k // 2
                        inside = 0 <= y < h and 0 <= z < w
                        index.append(y * w + z if inside else i * w + j)
                        mask.append(0.0 if inside else -1e9)

        def windows(t):  # [B, H, W, C] -> [B, HW, k*k, heads, d]
            return ops.reshape(ops.take(ops.reshape(t, (-1, n, c)), index, axis=1), (-1, n, kk, heads, d))

        queries = ops.reshape(self.query(x), (-1, n, heads, d))
        content = ops.einsum("bnhd,bnehd->bhne", queries, windows(self.key(x)))
        offsets = range(kk)
        rel = ops.concatenate([ops.take(self.row_embedding, [e // k for e in offsets], axis=0), ops.take(self.col_embedding, [e % k for e in offsets], axis=0)], axis=1)
        position = ops.einsum("bnhd,ehd->bhne", queries, ops.reshape(rel, (kk, heads, d)))
        logits = content + position + ops.reshape(ops.convert_to_tensor(mask, dtype=x.dtype), (1, 1, n, kk))
        weights = ops.softmax(logits, axis=-1)
        y = ops.einsum("bhne,bnehd->bnhd", weights, windows(self.value(x)))
        return ops.reshape(y, (-1, h, w, c)), weights

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "heads": self.heads, "kernel_size": self.kernel_size}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class AugmentedConv2d(keras.layers.Layer):
    """Attention-augmented convolution: a k x k convolution and multi-head self-attention, concatenated.

    Bello, Zoph, Vaswani, Shlens & Le (2019). Attention Augmented Convolutional Networks.
    One 1x1 convolution gives queries and keys (dk channels each) and values (dv); logits are
    q.k / sqrt(dk / heads) plus, when relative, the query's products with learned embeddings of
    the row and column offsets (shared by the heads); a 1x1 convolution mixes the heads.
    Returns [conv(x); attention] and the weights [B, heads, HW, HW].
    """

    # Weights the tfjs model keeps in a sublayer of its own (see runtime.weight_key).
    tfjs_weight_names = {"key_rel_w": "_attention/key_rel_w", "key_rel_h": "_attention/key_rel_h"}

    def __init__(self, filters, kernel_size, dk, dv, heads, relative=True, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.dk, self.dv, self.heads, self.relative = filters, kernel_size, dk, dv, heads, relative

    def build(self, input_shape):
        _, h, w, _ = input_shape
        self.qkv = layers.Conv2D(2 * self.dk + self.dv, 1, name=f"{self.name}_qkv")
        self.qkv.build(input_shape)
        self.attn_out = layers.Conv2D(self.dv, 1, name=f"{self.name}_attn_out")
        self.attn_out.build((*input_shape[:-1], self.dv))
        self.conv = None
        if self.filters > self.dv:
            self.conv = layers.Conv2D(self.filters - self.dv, self.kernel_size, padding="same", name=f"{self.name}_conv")
            self.conv.build(input_shape)
        if self.relative:
            dkh = self.dk // self.heads
            normal = keras.initializers.RandomNormal(stddev=dkh**-0.5)
            self.key_rel_w = self.add_weight(shape=(2 * w - 1, dkh), initializer=normal, name="key_rel_w")
            self.key_rel_h = self.add_weight(shape=(2 * h - 1, dkh), initializer=normal, name="key_rel_h")

    @staticmethod
    def relative_table(table, n):
        """[2n - 1, d] embeddings of offsets -> [n, n, d], entry (i, j) the embedding of j - i."""
        return ops.reshape(ops.take(table, [j - i + n - 1 for i in range(n) for j in range(n)], axis=0), (n, n, -1))

    def call(self, x):
        _, h, w, _ = x.shape
        n, heads = h * w, self.heads
        dkh, dvh = self.dk // heads, self.dv // heads
        qkv = self.qkv(x)
        split = lambda t, d: ops.transpose(ops.reshape(t, (-1, n, heads, d)), (0, 2, 1, 3))  # [B, heads, HW, d]
        q = split(qkv[..., : self.dk], dkh) * dkh**-0.5
        k = split(qkv[..., self.dk : 2 * self.dk], dkh)
        v = split(qkv[..., 2 * self.dk :], dvh)
        logits = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2)))
        if self.relative:
            q5 = ops.reshape(q, (-1, heads, h, w, dkh))
            by_w = ops.einsum("bnxyd,yzd->bnxyz", q5, self.relative_table(self.key_rel_w, w))
            by_h = ops.einsum("bnxyd,xzd->bnxyz", q5, self.relative_table(self.key_rel_h, h))
            logits = ops.reshape(logits, (-1, heads, h, w, h, w)) + ops.expand_dims(by_w, 4) + ops.expand_dims(by_h, 5)
            logits = ops.reshape(logits, (-1, heads, n, n))
        weights = ops.softmax(logits, axis=-1)
        attended = ops.reshape(ops.transpose(ops.matmul(weights, v), (0, 2, 1, 3)), (-1, h, w, self.dv))
        attended = self.attn_out(attended)
        if self.conv is None:
            return attended, weights
        return ops.concatenate([self.conv(x), attended], axis=-1), weights

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "dk": self.dk,
            "dv": self.dv,
            "heads": self.heads,
            "relative": self.relative,
        }
