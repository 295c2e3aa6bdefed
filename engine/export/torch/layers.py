"""Standard layers for exported PyTorch models where torch.nn has no exact match: LSTM and GRU
with Keras's gate layout, TensorFlow's bilinear upsampling, sinusoidal or learned
positional encodings, a word encoder applied per sentence (HAN).

Attention Studio copies the classes a model uses (below these imports) into its PyTorch
export; the export's tests import this file as it is.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


class LSTM(nn.Module):
    """A long short-term memory layer (Hochreiter & Schmidhuber 1997, "Long Short-Term Memory").

    Keras's and TensorFlow.js's parameterisation, written out because nn.LSTM differs:
    ONE bias per gate (nn.LSTM has two, bias_ih and bias_hh), gates in the order
    input, forget, cell, output, sigmoid gates and tanh activations, zero initial state.
    Input [batch, time, features]; output every hidden state [batch, time, hidden] or,
    by default, the last one [batch, hidden].
    """

    def __init__(self, input_size, hidden_size, return_sequences=False):
        super().__init__()
        self.hidden_size = hidden_size
        self.return_sequences = return_sequences
        self.weight_ih = nn.Parameter(nn.init.xavier_uniform_(torch.empty(4 * hidden_size, input_size)))
        self.weight_hh = nn.Parameter(nn.init.xavier_uniform_(torch.empty(4 * hidden_size, hidden_size)))
        bias = torch.zeros(4 * hidden_size)
        bias[hidden_size : 2 * hidden_size] = 1.0  # forget gate (Jozefowicz et al. 2015)
        self.bias = nn.Parameter(bias)

    def forward(self, x):
        h = x.new_zeros(x.shape[0], self.hidden_size)
        c = torch.zeros_like(h)
        inputs = F.linear(x, self.weight_ih, self.bias)  # the input's share of every gate, all steps at once
        outputs = []
        for step in inputs.unbind(1):
            i, f, g, o = (step + F.linear(h, self.weight_hh)).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outputs.append(h)
        return torch.stack(outputs, dim=1) if self.return_sequences else h


class GRU(nn.Module):
    """A gated recurrent unit (Cho et al. 2014, "Learning Phrase Representations using RNN
    Encoder-Decoder for Statistical Machine Translation").

    The original form, as in TensorFlow.js (Keras's reset_after=False), written out because
    nn.GRU differs: the reset gate scales the hidden state BEFORE the recurrent matrix, ONE
    bias per gate, gates in the order update (z), reset (r), candidate (h), and
    h = z * h + (1 - z) * candidate. Input [batch, time, features]; output every hidden
    state [batch, time, hidden] or, by default, the last one [batch, hidden].
    """

    def __init__(self, input_size, hidden_size, return_sequences=False):
        super().__init__()
        self.hidden_size = hidden_size
        self.return_sequences = return_sequences
        self.weight_ih = nn.Parameter(nn.init.xavier_uniform_(torch.empty(3 * hidden_size, input_size)))
        self.weight_hh = nn.Parameter(nn.init.xavier_uniform_(torch.empty(3 * hidden_size, hidden_size)))
        self.bias = nn.Parameter(torch.zeros(3 * hidden_size))

    def forward(self, x):
        h = x.new_zeros(x.shape[0], self.hidden_size)
        inputs = F.linear(x, self.weight_ih, self.bias)  # the input's share of every gate, all steps at once
        weight_zr, weight_h = self.weight_hh.split([2 * self.hidden_size, self.hidden_size])
        outputs = []
        for step in inputs.unbind(1):
            x_z, x_r, x_h = step.chunk(3, dim=-1)
            h_z, h_r = F.linear(h, weight_zr).chunk(2, dim=-1)
            z = torch.sigmoid(x_z + h_z)
            r = torch.sigmoid(x_r + h_r)
            candidate = torch.tanh(x_h + F.linear(r * h, weight_h))
            h = z * h + (1 - z) * candidate
            outputs.append(h)
        return torch.stack(outputs, dim=1) if self.return_sequences else h


class Bidirectional(nn.Module):
    """Two recurrent cells reading a sequence both ways (Schuster & Paliwal 1997), their
    states concatenated on the feature axis, as TensorFlow.js's Bidirectional(concat).

    The backward cell reads the sequence reversed; its states are put back in the
    input's order, so step t holds both cells' views of token t. Without
    return_sequences the output is the forward cell's last state and the backward
    cell's last (the one after reading the first token).
    """

    def __init__(self, forward_cell, backward_cell):
        super().__init__()
        self.forward_cell = forward_cell
        self.backward_cell = backward_cell

    def forward(self, x):
        ahead = self.forward_cell(x)
        behind = self.backward_cell(x.flip(1))
        if self.forward_cell.return_sequences:
            behind = behind.flip(1)
        return torch.cat([ahead, behind], dim=-1)


class PerSentence(nn.Module):
    """The word level of a Hierarchical Attention Network (Yang et al. 2016): a word
    encoder (a recurrent layer) and attention pooling applied to every sentence of a
    document, as Keras's TimeDistributed would.

    x is the embedded document, NCHW as every rank-4 tensor here: [B, D, S, W] (features,
    sentences, words); mask the token ids [B, S, W] (0 pads). The B*S sentences are read
    as one batch. Returns (sentence vectors [B, S, H], word weights [B, S, W], sentences
    [B, S]: 1.0 for a sentence with a word, 0.0 for padding, the sentence attention's mask;
    without a mask, 1.0 for a sentence with any non-zero input).
    """

    def __init__(self, encoder, pooling):
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling

    def forward(self, x, mask=None):
        x = x.permute(0, 2, 3, 1)  # [B, S, W, D]
        b, s, w, d = x.shape
        states = self.encoder(x.reshape(b * s, w, d))
        pooled, weights = self.pooling(states, None if mask is None else mask.reshape(b * s, w))
        present = (mask != 0).any(-1) if mask is not None else (x != 0).flatten(2).any(-1)
        return pooled.reshape(b, s, -1), weights.reshape(b, s, w), present.float()


class BilinearUpsample2d(nn.Module):
    """Bilinear upsampling by an integer factor, sampled as TensorFlow.js samples.

    Output pixel i reads input position i / factor (TensorFlow 1's resize_bilinear:
    no aligned corners, no half-pixel centres), clamped at the last pixel.
    F.interpolate(mode="bilinear") reads (i + 0.5) / factor - 0.5 instead, which would
    not reproduce the trained model's outputs.
    """

    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def _taps(self, size, x):
        position = torch.arange(size * self.factor, device=x.device, dtype=torch.float32) / self.factor
        low = position.floor().long()
        high = (low + 1).clamp(max=size - 1)
        return low, high, (position - low).to(x.dtype)

    def forward(self, x):
        top, bottom, dy = self._taps(x.shape[2], x)
        left, right, dx = self._taps(x.shape[3], x)
        dy = dy[:, None]
        x = x[:, :, top] * (1 - dy) + x[:, :, bottom] * dy
        return x[..., left] * (1 - dx) + x[..., right] * dx


class PositionalEncoding(nn.Module):
    """Adds position information to a sequence [batch, time, features].

    Vaswani et al. (2017), "Attention Is All You Need": by default the fixed code
    sin(pos / 10000^(2i/D)) on even features and cos on odd ones (a buffer that is
    recomputed, not saved); with learned=True a trained max_length x D table (BERT,
    GPT-2, ViT). Either is cut to the sequence length.
    """

    def __init__(self, dim, max_length=512, learned=False):
        super().__init__()
        if learned:
            self.table = nn.Parameter(torch.randn(max_length, dim) * 0.02)
        else:
            position = torch.arange(max_length, dtype=torch.float64)[:, None]
            pair = torch.arange(dim, dtype=torch.float64) // 2 * 2  # 2i for features 2i and 2i + 1
            angle = position / 10000 ** (pair / dim)
            table = torch.where(torch.arange(dim) % 2 == 0, angle.sin(), angle.cos())
            self.register_buffer("table", table.float(), persistent=False)

    def forward(self, x):
        return x + self.table[: x.shape[1]]
