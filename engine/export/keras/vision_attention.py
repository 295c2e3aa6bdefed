"""Keras 3 layers of the vision attention blocks (copied into Keras exports).

Channels-last like the graph; inner layers are named like the compiled tfjs model's
(`{name}_fc1`, `{name}_norm1`, ...), so trained weights load by name. Every layer is
registered as serializable, so a saved `.keras` file reloads.
"""

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="AttentionStudio")
class SqueezeExcitation(keras.layers.Layer):
    """Squeeze-and-Excitation: channel attention from globally pooled features.

    Hu, Shen, Albanie, Sun & Wu (2018). Squeeze-and-Excitation Networks.
    s = sigmoid(fc2(relu(fc1(mean_hw(x))))), y = x * s. Returns y and the channel weights [B, C].
    """

    def __init__(self, reduction=16, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.reduction = reduction
        self.use_bias = use_bias

    def build(self, input_shape):
        channels = input_shape[-1]
        hidden = max(1, channels // self.reduction)
        self.fc1 = layers.Dense(hidden, activation="relu", use_bias=self.use_bias, name=f"{self.name}_fc1")
        self.fc2 = layers.Dense(channels, use_bias=self.use_bias, name=f"{self.name}_fc2")
        self.fc1.build((None, channels))
        self.fc2.build((None, hidden))

    def call(self, x):
        s = ops.sigmoid(self.fc2(self.fc1(ops.mean(x, axis=(1, 2)))))
        return x * ops.reshape(s, (-1, 1, 1, s.shape[-1])), s

    def get_config(self):
        return {**super().get_config(), "reduction": self.reduction, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class ChannelAttention(keras.layers.Layer):
    """CBAM's channel attention module.

    Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
    M_c = sigmoid(MLP(avgpool(x)) + MLP(maxpool(x))) with one shared MLP, y = M_c * x.
    Returns y and the channel weights M_c [B, C].
    """

    def __init__(self, reduction=16, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.reduction = reduction
        self.use_bias = use_bias

    def build(self, input_shape):
        channels = input_shape[-1]
        hidden = max(1, channels // self.reduction)
        self.fc1 = layers.Dense(hidden, activation="relu", use_bias=self.use_bias, name=f"{self.name}_fc1")
        self.fc2 = layers.Dense(channels, use_bias=self.use_bias, name=f"{self.name}_fc2")
        self.fc1.build((None, channels))
        self.fc2.build((None, hidden))

    def call(self, x):
        mlp = lambda v: self.fc2(self.fc1(v))
        weights = ops.sigmoid(mlp(ops.mean(x, axis=(1, 2))) + mlp(ops.max(x, axis=(1, 2))))
        return x * ops.reshape(weights, (-1, 1, 1, weights.shape[-1])), weights

    def get_config(self):
        return {**super().get_config(), "reduction": self.reduction, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class SpatialAttention(keras.layers.Layer):
    """CBAM's spatial attention module.

    Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
    M_s = sigmoid(BN(conv([mean_c(x); max_c(x)]))), y = M_s * x. Returns y and the spatial
    map M_s [B, H, W]. The pooled maps are stacked mean first, in the paper's order.
    """

    def __init__(self, kernel_size=7, batch_norm=True, bn_momentum=0.1, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = kernel_size
        self.batch_norm = batch_norm
        self.bn_momentum = bn_momentum  # PyTorch's sense, the weight of each new batch: Keras's momentum is 1 - it

    def build(self, input_shape):
        pooled_shape = (*input_shape[:-1], 2)
        self.conv = layers.Conv2D(1, self.kernel_size, padding="same", use_bias=False, name=f"{self.name}_conv")
        self.conv.build(pooled_shape)
        self.bn = None
        if self.batch_norm:
            self.bn = layers.BatchNormalization(momentum=1 - self.bn_momentum, epsilon=1e-5, name=f"{self.name}_bn")
            self.bn.build((*input_shape[:-1], 1))

    def call(self, x, training=None):
        pooled = ops.concatenate([ops.mean(x, axis=-1, keepdims=True), ops.max(x, axis=-1, keepdims=True)], axis=-1)
        m = self.conv(pooled)
        if self.bn is not None:
            m = self.bn(m, training=training)
        m = ops.sigmoid(m)
        return x * m, ops.squeeze(m, axis=-1)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "batch_norm": self.batch_norm, "bn_momentum": self.bn_momentum}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class CBAM(keras.layers.Layer):
    """Convolutional Block Attention Module: channel attention, then spatial attention.

    Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
    F' = M_c(F) * F, F'' = M_s(F') * F'. Returns F'', the channel weights [B, C] and the
    spatial map [B, H, W].
    """

    def __init__(self, reduction=16, kernel_size=7, use_bias=True, batch_norm=True, bn_momentum=0.1, **kwargs):
        super().__init__(**kwargs)
        self.bn_momentum = bn_momentum
        self.reduction = reduction
        self.kernel_size = kernel_size
        self.use_bias = use_bias
        self.batch_norm = batch_norm

    def build(self, input_shape):
        self.channel = ChannelAttention(self.reduction, self.use_bias, name=f"{self.name}_channel")
        self.spatial = SpatialAttention(self.kernel_size, self.batch_norm, self.bn_momentum, name=f"{self.name}_spatial")
        self.channel.build(input_shape)
        self.spatial.build(input_shape)

    def call(self, x, training=None):
        x, channel_weights = self.channel(x)
        x, spatial_map = self.spatial(x, training=training)
        return x, channel_weights, spatial_map

    def get_config(self):
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "kernel_size": self.kernel_size,
            "use_bias": self.use_bias,
            "batch_norm": self.batch_norm,
            "bn_momentum": self.bn_momentum,
        }


@keras.saving.register_keras_serializable(package="AttentionStudio")
class NonLocalBlock(keras.layers.Layer):
    """Non-local block: self-attention over all positions of a feature map.

    Wang, Girshick, Gupta & He (2018). Non-local Neural Networks.
    y_i = sum_j f(theta_i, phi_j) g_j / C(x), z = BN(W_z y) + x, with 1x1 convolutions theta,
    phi, g to max(1, C // 2) channels. pairwise is "embedded_gaussian" (softmax over j),
    "dot_product" (divided by N') or "concatenation" (ReLU(w_f^T [theta_i; phi_j]) / N');
    subsample max-pools phi and g 2x2. BN's gamma starts at zero (the block starts as the
    identity). Returns z and the affinity [B, HW, N'].
    """

    # Weights the tfjs model keeps in a sublayer of its own (see runtime.weight_key).
    tfjs_weight_names = {"kernel": "_affinity/kernel"}

    def __init__(self, pairwise="embedded_gaussian", subsample=True, **kwargs):
        super().__init__(**kwargs)
        self.pairwise = pairwise
        self.subsample = subsample

    def build(self, input_shape):
        channels = input_shape[-1]
        self.inner = max(1, channels // 2)
        inner_shape = (*input_shape[:-1], self.inner)
        conv = lambda filters, suffix: layers.Conv2D(filters, 1, name=f"{self.name}_{suffix}")
        self.theta, self.phi, self.g = conv(self.inner, "theta"), conv(self.inner, "phi"), conv(self.inner, "g")
        for layer in (self.theta, self.phi, self.g):
            layer.build(input_shape)
        self.phi_pool = layers.MaxPooling2D(2, name=f"{self.name}_phi_pool")
        self.g_pool = layers.MaxPooling2D(2, name=f"{self.name}_g_pool")
        self.wz = conv(channels, "wz")
        self.wz.build(inner_shape)
        self.bn = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, gamma_initializer="zeros", name=f"{self.name}_wz_bn")
        self.bn.build(input_shape)
        if self.pairwise == "concatenation":
            self.w_f = self.add_weight(shape=(2 * self.inner, 1), initializer="glorot_uniform", name="kernel")

    def call(self, x, training=None):
        _, h, w, _ = x.shape
        theta = ops.reshape(self.theta(x), (-1, h * w, self.inner))
        phi, g = self.phi(x), self.g(x)
        if self.subsample:
            phi, g = self.phi_pool(phi), self.g_pool(g)
        keys = phi.shape[1] * phi.shape[2]
        phi = ops.reshape(phi, (-1, keys, self.inner))
        g = ops.reshape(g, (-1, keys, self.inner))
        if self.pairwise == "embedded_gaussian":
            affinity = ops.softmax(ops.matmul(theta, ops.transpose(phi, (0, 2, 1))), axis=-1)
        elif self.pairwise == "dot_product":
            affinity = ops.matmul(theta, ops.transpose(phi, (0, 2, 1))) / keys
        else:
            from_theta = ops.matmul(theta, self.w_f[: self.inner])  # [B, HW, 1]
            from_phi = ops.transpose(ops.matmul(phi, self.w_f[self.inner :]), (0, 2, 1))  # [B, 1, N']
            affinity = ops.relu(from_theta + from_phi) / keys
        y = ops.reshape(ops.matmul(affinity, g), (-1, h, w, self.inner))
        return self.bn(self.wz(y), training=training) + x, affinity

    def get_config(self):
        return {**super().get_config(), "pairwise": self.pairwise, "subsample": self.subsample}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class AttentionBranch(keras.layers.Layer):
    """The attention branch of an Attention Branch Network.

    Fukui, Hirakawa, Yamashita & Fujiyoshi (2019). Attention Branch Network: Learning of
    Attention Mechanism for Visual Explanation.
    conv_layers 3x3 conv-BN-ReLU layers, BN, a 1x1 conv to K class maps, BN, ReLU; then a 1x1
    conv, global average pooling and softmax give the class scores, and a conv K -> 1, BN and
    sigmoid give the attention map M. Returns (1 + M) * x, M [B, H, W] and the scores [B, K].
    """

    def __init__(self, classes, conv_layers=1, map_kernel=1, **kwargs):
        super().__init__(**kwargs)
        self.classes = classes
        self.conv_layers = conv_layers
        self.map_kernel = map_kernel

    def build(self, input_shape):
        channels = input_shape[-1]
        shape = lambda c: (*input_shape[:-1], c)
        conv = lambda filters, kernel, suffix: layers.Conv2D(
            filters, kernel, padding="same", use_bias=False, kernel_initializer="he_normal", name=f"{self.name}_{suffix}"
        )
        bn = lambda suffix: layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{self.name}_{suffix}")
        self.convs = [conv(channels, 3, f"conv{i}") for i in range(1, self.conv_layers + 1)]
        self.bns = [bn(f"bn{i}") for i in range(1, self.conv_layers + 1)]
        self.bn = bn("bn")
        self.class_conv = conv(self.classes, 1, "class_conv")
        self.class_bn = bn("class_bn")
        self.score_conv = conv(self.classes, 1, "score_conv")
        self.map_conv = conv(1, self.map_kernel, "map_conv")
        self.map_bn = bn("map_bn")
        for layer in (*self.convs, *self.bns, self.bn, self.class_conv):
            layer.build(shape(channels))
        for layer in (self.class_bn, self.score_conv, self.map_conv):
            layer.build(shape(self.classes))
        self.map_bn.build(shape(1))

    def call(self, x, training=None):
        a = x
        for conv, bn in zip(self.convs, self.bns):
            a = ops.relu(bn(conv(a), training=training))
        a = self.bn(a, training=training)
        a = ops.relu(self.class_bn(self.class_conv(a), training=training))
        scores = ops.softmax(ops.mean(self.score_conv(a), axis=(1, 2)), axis=-1)
        m = ops.sigmoid(self.map_bn(self.map_conv(a), training=training))
        return x + x * m, ops.squeeze(m, axis=-1), scores

    def get_config(self):
        return {**super().get_config(), "classes": self.classes, "conv_layers": self.conv_layers, "map_kernel": self.map_kernel}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class HighwayGate(keras.layers.Layer):
    """A highway layer: y = H(x) * T(x) + x * (1 - T(x)), with T(x) = sigmoid(W_T x + b_T).

    Srivastava, Greff & Schmidhuber (2015). Training Very Deep Networks.
    H and T act on the last axis: Dense layers, or k x k convolutions on an image when
    kernel_size is given. b_T starts at gate_bias. Returns y and the gate T(x).
    """

    def __init__(self, activation="relu", kernel_size=None, gate_bias=-2.0, **kwargs):
        super().__init__(**kwargs)
        self.activation = activation
        self.kernel_size = kernel_size
        self.gate_bias = gate_bias

    def build(self, input_shape):
        channels = input_shape[-1]

        def make(activation, suffix, **extra):
            if self.kernel_size is None:
                return layers.Dense(channels, activation=activation, name=f"{self.name}_{suffix}", **extra)
            return layers.Conv2D(channels, self.kernel_size, padding="same", activation=activation, name=f"{self.name}_{suffix}", **extra)

        self.transform = make(self.activation, "transform")
        self.gate = make("sigmoid", "gate", bias_initializer=keras.initializers.Constant(self.gate_bias))
        self.transform.build(input_shape)
        self.gate.build(input_shape)

    def call(self, x):
        h = self.transform(x)
        t = self.gate(x)
        return x + t * (h - x), t

    def get_config(self):
        return {**super().get_config(), "activation": self.activation, "kernel_size": self.kernel_size, "gate_bias": self.gate_bias}


@keras.saving.register_keras_serializable(package="AttentionStudio")
class LearnedGate(keras.layers.Layer):
    """A learned gate: y = sigmoid(W c + b) * x, where the context c decides how much of x passes.

    Dauphin, Fan, Auli & Grangier (2017). Language Modeling with Gated Convolutional Networks.
    per="channel": c is averaged over its positions and a Dense layer gives one weight per
    channel of x, [B, C]. per="position": a Dense layer on c's channels gives one weight per
    position of x, [B, H, W] or [B, T]. Call with [x] or [x, context]; without a context x
    gates itself.
    """

    def __init__(self, per="channel", **kwargs):
        super().__init__(**kwargs)
        self.per = per

    def build(self, input_shape):
        x_shape, context_shape = input_shape[0], input_shape[-1]
        units = x_shape[-1] if self.per == "channel" else 1
        self.dense = layers.Dense(units, activation="sigmoid", name=f"{self.name}_dense")
        self.dense.build((None, context_shape[-1]))

    def call(self, inputs):
        x, context = inputs[0], inputs[-1]
        if self.per == "channel":
            if len(context.shape) > 2:
                context = ops.mean(context, axis=tuple(range(1, len(context.shape) - 1)))
            gate = self.dense(context)  # [B, C]
            scale = ops.reshape(gate, (-1, *([1] * (len(x.shape) - 2)), x.shape[-1]))
            return x * scale, gate
        weights = self.dense(context)  # [B, ..., 1]
        return x * weights, ops.squeeze(weights, axis=-1)

    def get_config(self):
        return {**super().get_config(), "per": self.per}
