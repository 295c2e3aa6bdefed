"""Caption decoders for exported PyTorch models: the Show, Attend and Tell decoder.

Attention Studio copies the classes a model uses (below these imports) into its PyTorch
export; the export's tests import this file as it is.
"""
import torch
from torch import nn


class ShowAttendTell(nn.Module):
    """The soft-attention caption decoder of Show, Attend and Tell (Xu et al. 2015), with a GRU.

    The feature map [B, C, H, W] is a grid of H*W annotations a_i (row-major, as in the tfjs
    model), each with a learned position embedding added. The state starts as tanh(mean_i a_i W_init + b); at step t additive attention gives
    alpha_ti = softmax_i(v^T tanh(a_i W_key + b_key + s_{t-1} W_query)) and the context
    z_t = sum_i alpha_ti a_i; a GRU (PyTorch's gate order r, z, n) reads [E y_{t-1}, z_t]; the
    words are softmax([s_t, z_t, E y_{t-1}] W_out + b_out). With `coverage` the scorer also reads
    w_c * c_ti, the attention cell i received at earlier steps. Step 0 reads `start_token`. In
    training, when `teacher_targets` holds the batch's captions [B, T] (runtime.train() sets it),
    step t reads the true word t-1 (teacher forcing); otherwise, and always in eval mode, the
    argmax of the step before: greedy decoding. Kernels are stored [in, out], as in tfjs.
    Returns (words [B, T, V], attention [B, T, H, W]).
    """

    def __init__(self, channels, height, width, steps, vocab, embedding, units, attention_units, start_token=1, coverage=False):
        super().__init__()
        self.steps, self.units, self.start_token, self.coverage = steps, units, start_token, coverage
        self.teacher_targets = None
        c, v, e, u, a = channels, vocab, embedding, units, attention_units
        shapes = {
            "positions": (height * width, c),
            "init_kernel": (c, u),
            "init_bias": (u,),
            "embedding": (v, e),
            "key_kernel": (c, a),
            "key_bias": (a,),
            "query_kernel": (u, a),
            "score_vector": (a, 1),
            "input_kernel": (e + c, 3 * u),
            "recurrent_kernel": (u, 3 * u),
            "input_bias": (3 * u,),
            "recurrent_bias": (3 * u,),
            "output_kernel": (u + c + e, v),
            "output_bias": (v,),
        }
        if coverage:
            shapes["coverage_vector"] = (1, a)
        for name, shape in shapes.items():
            param = nn.Parameter(torch.zeros(shape))
            if len(shape) == 2:
                nn.init.xavier_uniform_(param)
            self.register_parameter(name, param)

    def step(self, annotations, keys, state, word, coverage):
        """One word: (probabilities [B, V], alpha [B, H*W], new state, logits [B, V]); `coverage` [B, H*W] is
        the attention each cell received so far."""
        hidden = keys + (state @ self.query_kernel).unsqueeze(1)
        if self.coverage:
            hidden = hidden + coverage.unsqueeze(2) @ self.coverage_vector
        alpha = torch.softmax((torch.tanh(hidden) @ self.score_vector).squeeze(-1), dim=-1)
        context = (alpha.unsqueeze(1) @ annotations).squeeze(1)
        embedded = self.embedding[word]
        gx = torch.cat([embedded, context], 1) @ self.input_kernel + self.input_bias
        gh = state @ self.recurrent_kernel + self.recurrent_bias
        xr, xz, xn = gx.split(self.units, 1)
        hr, hz, hn = gh.split(self.units, 1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        state = (1 - z) * torch.tanh(xn + r * hn) + z * state
        logits = torch.cat([state, context, embedded], 1) @ self.output_kernel + self.output_bias
        return torch.softmax(logits, -1), alpha, state, logits

    @staticmethod
    def captions(words, vocabulary, end_token=2):
        """The greedy captions of words [B, T, V] (what forward() returns): each step's argmax, up to
        `end_token`, as strings of `vocabulary`'s words (special tokens below the end token left out)."""
        captions = []
        for ids in words.argmax(-1).tolist():
            kept = []
            for i in ids:
                if i == end_token:
                    break
                if i > end_token:
                    kept.append(vocabulary[i])
            captions.append(" ".join(kept))
        return captions

    def forward(self, features):
        b, c, h, w = features.shape
        annotations = features.permute(0, 2, 3, 1).reshape(b, h * w, c) + self.positions
        keys = annotations @ self.key_kernel + self.key_bias
        state = torch.tanh(annotations.mean(1) @ self.init_kernel + self.init_bias)
        word = torch.full((b,), self.start_token, dtype=torch.long, device=features.device)
        coverage = torch.zeros(b, h * w, device=features.device)
        truth = self.teacher_targets if self.training else None
        words, alphas = [], []
        for t in range(self.steps):
            probs, alpha, state, logits = self.step(annotations, keys, state, word, coverage)
            coverage = coverage + alpha
            words.append(probs)
            alphas.append(alpha)
            # Past <end> the truth is padding (-1, no loss): any word will do.
            word = truth[:, t].long().clamp(min=0) if truth is not None else logits.argmax(-1)
        return torch.stack(words, 1), torch.stack(alphas, 1).reshape(b, self.steps, h, w)
