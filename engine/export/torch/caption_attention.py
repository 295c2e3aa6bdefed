"""Caption decoders for exported PyTorch models: the Show, Attend and Tell decoder.

Attention Studio copies the classes a model uses (below these imports) into its PyTorch
export; the export's tests import this file as it is.
"""
import json

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
    Returns (words [B, T, V], attention [B, T, H, W]). For captions by beam search, see decode().
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
    def words(ids, vocabulary=None, end_token=2):
        """A caption's token ids as text: `vocabulary`'s words (by default those beside the model) up to
        `end_token`, the special tokens below it left out."""
        vocabulary = ShowAttendTell.vocabulary() if vocabulary is None else vocabulary
        kept = []
        for i in ids:
            if i == end_token:
                break
            if i > end_token:
                kept.append(vocabulary[i])
        return " ".join(kept)

    @staticmethod
    def captions(words, vocabulary=None, end_token=2):
        """The greedy captions of words [B, T, V] (what forward() returns): each step's argmax, up to
        `end_token`, as strings of `vocabulary`'s words (by default those beside the model; special tokens
        below the end token left out)."""
        vocabulary = ShowAttendTell.vocabulary() if vocabulary is None else vocabulary
        return [ShowAttendTell.words(ids, vocabulary, end_token) for ids in words.argmax(-1).tolist()]

    def encode(self, features):
        """The annotations [B, H*W, C] (each plus its position embedding), their attention keys [B, H*W, A] and the first state [B, U]."""
        b, c, h, w = features.shape
        annotations = features.permute(0, 2, 3, 1).reshape(b, h * w, c) + self.positions
        keys = annotations @ self.key_kernel + self.key_bias
        state = torch.tanh(annotations.mean(1) @ self.init_kernel + self.init_bias)
        return annotations, keys, state

    @torch.no_grad()
    def beam_search(self, features, beam=3, end_token=2):
        """Beam search from the image alone, as Attention Studio's `attn predict --beam K` does it.

        Per sample of the feature map [B, C, H, W], the `beam` most likely captions, best first, each a pair
        (token ids up to and with `end_token`, or `steps` of them; their summed log-probability). Every step
        extends each live caption by every word and keeps the `beam` most likely of all; one that reads
        `end_token` or reaches `steps` words is finished. The search stops early once `beam` captions are
        finished and none live is more likely than the least likely of them (log-probabilities only fall).
        Beam 1 is greedy decoding.
        """
        if isinstance(beam, bool) or not isinstance(beam, int) or beam < 1:
            raise ValueError(f"beam size must be a positive integer, not {beam!r}")
        results = []
        for sample in features:
            annotations, keys, state = self.encode(sample.unsqueeze(0))
            live = [([], 0.0, state, torch.zeros(1, annotations.shape[1], device=features.device))]
            done = []
            for t in range(self.steps):
                if not live:
                    break
                k = len(live)
                words = torch.tensor([ids[-1] if ids else self.start_token for ids, *_ in live], device=features.device)
                coverage = torch.cat([c for *_, c in live])
                _, alpha, states, logits = self.step(
                    annotations.expand(k, -1, -1), keys.expand(k, -1, -1), torch.cat([s for _, _, s, _ in live]), words, coverage
                )
                coverage = coverage + alpha
                log_probs = torch.log_softmax(logits, -1).tolist()
                # Ties keep the order of (caption, word), as the app's stable sort does.
                candidates = sorted(
                    ((i, v, live[i][1] + lp) for i, row in enumerate(log_probs) for v, lp in enumerate(row)), key=lambda c: -c[2]
                )
                kept = []
                for i, v, log_prob in candidates[:beam]:
                    ids = live[i][0] + [v]
                    if v == end_token or t == self.steps - 1:
                        done.append((ids, log_prob))
                    else:
                        kept.append((ids, log_prob, states[i : i + 1], coverage[i : i + 1]))
                live = kept
                if len(done) >= beam and all(c[1] <= min(d[1] for d in done) for c in live):
                    break
            results.append(sorted(done, key=lambda d: -d[1])[:beam])
        return results

    @classmethod
    @torch.no_grad()
    def decode(cls, model, *inputs, beam=1, end_token=2):
        """beam_search() on a whole model's inputs (its image batch): the model runs once in eval mode, and the
        search reads the features its Show, Attend and Tell decoder is given. Beam 1 gives forward()'s greedy words."""
        decoder = next((m for m in model.modules() if isinstance(m, cls)), None)
        if decoder is None:
            raise ValueError(f"{type(model).__name__} has no {cls.__name__} decoder: beam search decodes captions only")
        seen = []
        hook = decoder.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
        was_training = model.training
        model.eval()
        try:
            model(*inputs)
        finally:
            hook.remove()
            model.train(was_training)
        return decoder.beam_search(seen[0], beam, end_token)

    @classmethod
    def caption(cls, model, *inputs, beam=1, vocabulary=None, end_token=2):
        """Each sample's most likely caption as text, found by decode(): `vocabulary`'s words (by default those
        beside the model), as `attn predict --beam K` prints them."""
        vocabulary = cls.vocabulary() if vocabulary is None else vocabulary
        return [cls.words(found[0][0], vocabulary, end_token) for found in cls.decode(model, *inputs, beam=beam, end_token=end_token)]

    def forward(self, features):
        b, _, h, w = features.shape
        annotations, keys, state = self.encode(features)
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
