"""Sequence attention for exported PyTorch models: masked softmax, scaled dot-product,
multi-head, Transformer encoder and decoder layers, additive (Bahdanau) and Luong attention,
memory-network hops and the ViT patch embedding.

Attention Studio copies the classes a model uses (below these imports) into its PyTorch
export; the export's tests import this file as it is.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


def masked_softmax(scores, mask=None, causal=False):
    """Softmax of attention scores [..., Tq, Tk] over the keys.

    `mask` [B, Tk] keeps a key where it is non-zero (the Keras convention; PyTorch's
    key_padding_mask is its negation). `causal` hides the keys after each query
    (top-left aligned, like is_causal). A hidden score becomes -1e9 rather than -inf,
    as in the tfjs model, so a query that sees no key averages them all instead of
    giving NaN.
    """
    if mask is not None:
        keep = (mask != 0).view(mask.shape[0], *[1] * (scores.dim() - 2), mask.shape[-1])
        scores = scores.masked_fill(~keep, -1e9)
    if causal:
        keep = torch.ones(scores.shape[-2:], dtype=torch.bool, device=scores.device).tril()
        scores = scores.masked_fill(~keep, -1e9)
    return torch.softmax(scores, dim=-1)


class ScaledDotProductAttention(nn.Module):
    """Scaled dot-product attention (Vaswani et al. 2017, "Attention Is All You Need", eq. 1).

    softmax(Q K^T / sqrt(d_k)) V: each query averages the values, weighted by how well it
    matches each key. No weights of its own. Returns (context [B, Tq, d_v], weights [B, Tq, Tk]).
    """

    def __init__(self, causal=False):
        super().__init__()
        self.causal = causal

    def forward(self, query, key, value, mask=None):
        scores = query @ key.transpose(-2, -1) / math.sqrt(key.shape[-1])
        weights = masked_softmax(scores, mask, self.causal)
        return weights @ value, weights


class MultiHeadAttention(nn.Module):
    """Multi-head attention (Vaswani et al. 2017, "Attention Is All You Need", section 3.2.2).

    The query, key and value are projected to `num_heads` subspaces (contiguous slices of
    q_proj, k_proj, v_proj), scaled dot-product attention runs in every head, and the heads
    are concatenated and projected back to embed_dim by out_proj. Same parameters as
    nn.MultiheadAttention, with separate projections. `mask` [B, Tk] keeps a key where it
    is 1 (the negation of key_padding_mask). Returns (y [B, Tq, embed_dim], weights
    [B, num_heads, Tq, Tk]); the weights are taken before dropout.
    """

    def __init__(self, embed_dim, num_heads, kdim=None, vdim=None, head_dim=None, value_head_dim=None,
                 bias=True, dropout=0.0, causal=False):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = head_dim or embed_dim // num_heads
        self.value_head_dim = value_head_dim or embed_dim // num_heads
        self.causal = causal
        self.q_proj = nn.Linear(embed_dim, num_heads * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(kdim or embed_dim, num_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(vdim or kdim or embed_dim, num_heads * self.value_head_dim, bias=bias)
        self.out_proj = nn.Linear(num_heads * self.value_head_dim, embed_dim, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def _heads(self, x, size):
        """[B, T, heads * size] -> [B, heads, T, size]."""
        return x.view(x.shape[0], x.shape[1], self.num_heads, size).transpose(1, 2)

    def forward(self, query, key=None, value=None, mask=None):
        key = query if key is None else key
        value = key if value is None else value
        q = self._heads(self.q_proj(query), self.head_dim)
        k = self._heads(self.k_proj(key), self.head_dim)
        v = self._heads(self.v_proj(value), self.value_head_dim)
        weights = masked_softmax(q @ k.transpose(-2, -1) / math.sqrt(self.head_dim), mask, self.causal)
        context = self.dropout(weights) @ v  # [B, heads, Tq, value_head_dim]
        context = context.transpose(1, 2).reshape(query.shape[0], query.shape[1], -1)
        return self.out_proj(context), weights


class TransformerEncoderLayer(nn.Module):
    """One Transformer encoder layer (Vaswani et al. 2017, "Attention Is All You Need", section 3.1).

    Multi-head self-attention and a position-wise feed-forward network, each in a residual
    connection with LayerNorm: after the sum (post-norm, the paper) or before the sublayer
    (norm_first=True, pre-norm; Xiong et al. 2020). Same sublayers and parameters as
    nn.TransformerEncoderLayer, layer_norm_eps included (1e-5 as PyTorch's, 1e-6 in ViT). `mask` [B, T] keeps
    a step where it is 1. Returns (y [B, T, d_model], self-attention weights [B, heads, T, T]).
    """

    def __init__(self, d_model, num_heads, dim_feedforward, dropout=0.1, activation="relu", norm_first=False,
                 causal=False, layer_norm_eps=1e-5):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout, causal=causal)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.activation = nn.GELU() if activation == "gelu" else nn.ReLU()
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def _feed_forward(self, x):
        return self.linear2(self.dropout(self.activation(self.linear1(x))))

    def forward(self, x, mask=None):
        if self.norm_first:
            h, weights = self.self_attn(self.norm1(x), mask=mask)
            x = x + self.dropout1(h)
            x = x + self.dropout2(self._feed_forward(self.norm2(x)))
        else:
            h, weights = self.self_attn(x, mask=mask)
            x = self.norm1(x + self.dropout1(h))
            x = self.norm2(x + self.dropout2(self._feed_forward(x)))
        return x, weights


class TransformerDecoderLayer(nn.Module):
    """One Transformer decoder layer (Vaswani et al. 2017, "Attention Is All You Need", section 3.1).

    (Causal) multi-head self-attention over the target, multi-head cross-attention from the
    target to the encoder output (memory), and a position-wise feed-forward network, each in
    a residual connection with LayerNorm, post-norm (the paper) or pre-norm (norm_first=True).
    Same sublayers and parameters as nn.TransformerDecoderLayer, layer_norm_eps included. Masks [B, T] / [B, S] keep a step where they are 1. Returns (y [B, T, d_model],
    self-attention weights [B, heads, T, T], cross-attention weights [B, heads, T, S]).
    """

    def __init__(self, d_model, num_heads, dim_feedforward, dropout=0.1, activation="relu", norm_first=False,
                 causal=True, layer_norm_eps=1e-5):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout, causal=causal)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.activation = nn.GELU() if activation == "gelu" else nn.ReLU()
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm3 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)

    def _feed_forward(self, x):
        return self.linear2(self.dropout(self.activation(self.linear1(x))))

    def forward(self, x, memory, mask=None, memory_mask=None):
        if self.norm_first:
            h, self_weights = self.self_attn(self.norm1(x), mask=mask)
            x = x + self.dropout1(h)
            h, cross_weights = self.cross_attn(self.norm2(x), memory, mask=memory_mask)
            x = x + self.dropout2(h)
            x = x + self.dropout3(self._feed_forward(self.norm3(x)))
        else:
            h, self_weights = self.self_attn(x, mask=mask)
            x = self.norm1(x + self.dropout1(h))
            h, cross_weights = self.cross_attn(x, memory, mask=memory_mask)
            x = self.norm2(x + self.dropout2(h))
            x = self.norm3(x + self.dropout3(self._feed_forward(x)))
        return x, self_weights, cross_weights


class AdditiveAttention(nn.Module):
    """Additive attention (Bahdanau, Cho & Bengio 2014, "Neural Machine Translation by Jointly
    Learning to Align and Translate").

    Each query scores every key with a one-hidden-layer network, e_ij = v^T tanh(W_q q_i + W_k k_j);
    the weights are softmax(e) over the keys and the context is their average of the values
    (the keys, if no values are given). `mask` [B, Tk] keeps a key where it is 1.
    Returns (context [B, Tq, Dv], weights [B, Tq, Tk]).
    """

    def __init__(self, query_dim, key_dim, units, bias=False):
        super().__init__()
        self.w_query = nn.Linear(query_dim, units, bias=bias)
        self.w_key = nn.Linear(key_dim, units, bias=bias)
        self.v = nn.Linear(units, 1, bias=False)  # a bias here could not change the softmax

    def forward(self, query, keys, values=None, mask=None):
        values = keys if values is None else values
        hidden = torch.tanh(self.w_query(query).unsqueeze(2) + self.w_key(keys).unsqueeze(1))  # [B, Tq, Tk, units]
        weights = masked_softmax(self.v(hidden).squeeze(-1), mask)
        return weights @ values, weights


class AttentionPooling(nn.Module):
    """Attention pooling (Yang et al. 2016, "Hierarchical Attention Networks for Document
    Classification"): u_t = tanh(W h_t + b), alpha = softmax(u_t^T u_w) over the steps,
    out = sum_t alpha_t h_t. `mask` [B, T] keeps a step where it is non-zero (token ids
    work: padding is id 0). Returns (out [B, D], weights [B, T]).
    """

    def __init__(self, dim, units):
        super().__init__()
        self.proj = nn.Linear(dim, units)
        self.context = nn.Linear(units, 1, bias=False)  # u_w

    def forward(self, x, mask=None):
        scores = self.context(torch.tanh(self.proj(x))).squeeze(-1)  # [B, T]
        weights = masked_softmax(scores.unsqueeze(1), mask).squeeze(1)
        return (weights.unsqueeze(-1) * x).sum(1), weights


class LuongAttention(nn.Module):
    """Global attention of Luong, Pham & Manning (2015, "Effective Approaches to Attention-based
    Neural Machine Translation", section 3.1).

    Scores between each decoder state h_t and encoder state h_s: "dot" h_t^T h_s, "general"
    h_t^T W_a h_s, or "concat" v_a^T tanh(W_a [h_t; h_s]), with W_a split into its query and
    key columns (w_query, w_key). The weights are the softmax of the scores over the source and
    the context is their average of the values (the keys, if none are given). `mask` [B, Tk]
    keeps a key where it is 1. Returns (context [B, Tq, Dv], weights [B, Tq, Tk]).
    """

    def __init__(self, query_dim, key_dim, score="general", units=None):
        super().__init__()
        self.score = score
        if score == "general":
            self.w_a = nn.Linear(query_dim, key_dim, bias=False)
        elif score == "concat":
            self.w_query = nn.Linear(query_dim, units, bias=False)
            self.w_key = nn.Linear(key_dim, units, bias=False)
            self.v_a = nn.Linear(units, 1, bias=False)

    def forward(self, query, keys, values=None, mask=None):
        values = keys if values is None else values
        if self.score == "concat":
            hidden = torch.tanh(self.w_query(query).unsqueeze(2) + self.w_key(keys).unsqueeze(1))
            scores = self.v_a(hidden).squeeze(-1)
        else:
            q = self.w_a(query) if self.score == "general" else query
            scores = q @ keys.transpose(1, 2)
        weights = masked_softmax(scores, mask)
        return weights @ values, weights


class MemoryNetwork(nn.Module):
    """The hops of an end-to-end memory network (Sukhbaatar et al. 2015, "End-To-End Memory
    Networks", section 2).

    The query is embedded as u = B q; hop k embeds the memory items twice, m_i = A^k x_i and
    c_i = C^k x_i, reads p = softmax(u^T m_i), o = sum_i p_i c_i, and updates u <- u + o.
    Weight tying (section 2.2): "adjacent" (A^(k+1) = C^k, B = A^1: embeddings E_0..E_K with
    A^k = E_(k-1), C^k = E_k, B = E_0) or "layerwise" (one A and one C, and u <- H u + o).
    `mask` [B, N] keeps a memory item where it is 1. Returns (u [B, dim], read weights of
    every hop [B, hops, N]).
    """

    def __init__(self, memory_dim, query_dim, dim, hops, tying="adjacent"):
        super().__init__()
        self.hops = hops
        self.adjacent = tying == "adjacent"
        if self.adjacent:
            self.embeddings = nn.ModuleList(nn.Linear(memory_dim, dim, bias=False) for _ in range(hops + 1))
        else:
            self.A = nn.Linear(memory_dim, dim, bias=False)
            self.C = nn.Linear(memory_dim, dim, bias=False)
            self.B = nn.Linear(query_dim, dim, bias=False)
            self.H = nn.Linear(dim, dim, bias=False)

    def forward(self, memory, query, mask=None):
        if self.adjacent:
            embedded = [e(memory) for e in self.embeddings]
            u = self.embeddings[0](query)
        else:
            m, c = self.A(memory), self.C(memory)
            u = self.B(query)
        reads = []
        for k in range(1, self.hops + 1):
            if self.adjacent:
                m, c = embedded[k - 1], embedded[k]
            p = masked_softmax((m @ u.unsqueeze(-1)).squeeze(-1), mask)  # [B, N]
            o = (p.unsqueeze(1) @ c).squeeze(1)
            u = (u if self.adjacent else self.H(u)) + o
            reads.append(p)
        return u, torch.stack(reads, dim=1)


class PatchEmbedding(nn.Module):
    """The Vision Transformer's patch embedding (Dosovitskiy et al. 2021, "An Image is Worth 16x16
    Words", eq. 1).

    The image [B, C, H, W] is cut into patch x patch patches, each linearly projected to `dim`
    features (a convolution with stride = kernel = patch); the tokens [B, N, dim] are in row-major
    order over the patch grid. An optional learned class token goes in front and optional learned
    position embeddings are added. Returns [B, N (+1), dim].
    """

    def __init__(self, in_channels, dim, patch, num_patches, class_token=True, positions=True):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch, stride=patch)
        num_tokens = num_patches + int(class_token)
        self.class_token = nn.Parameter(nn.init.trunc_normal_(torch.empty(1, 1, dim), std=0.02)) if class_token else None
        self.positions = nn.Parameter(nn.init.trunc_normal_(torch.empty(num_tokens, dim), std=0.02)) if positions else None

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose(1, 2)  # [B, N, dim]
        if self.class_token is not None:
            x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        if self.positions is not None:
            x = x + self.positions
        return x
