"""The validation captions that an exported captioner's main() prints after training.

Attention Studio copies this file (below these imports) into the PyTorch and Keras exports of a
model with a caption decoder; the export's tests import it as it is. Framework-free: word ids
come as nested lists or numpy arrays; it imports what it needs itself (the exports' headers differ).
"""


def _caption(ids, end_token):
    """A caption's word ids before `end_token` (the special tokens below it and -1 padding left out), and whether it ended."""
    kept = []
    for i in ids:
        i = int(i)
        if i == end_token:
            return kept, True
        if i > end_token:
            kept.append(i)
    return kept, False


def report_captions(predicted, labels, vocabulary=None, shown=5, end_token=2, log=print):
    """Prints the greedy captions of the first `shown` validation samples beside their true ones, then the share of
    exact captions, and returns that share.

    `predicted` [N, T]: each step's most likely word id (greedy decoding); `labels` [N, T]: the true next word at each
    step, -1 once the caption has ended. Words are `vocabulary`'s, by default those that `attn export` writes beside
    the model (<model>.vocabulary.json); where that file is missing the ids are printed. A caption is exact, as
    Attention Studio scores it, when the decoder wrote <end> and, before it, exactly the true words.
    """
    import json
    import os

    if vocabulary is None:
        path = os.path.splitext(os.path.abspath(__file__))[0] + ".vocabulary.json"
        try:
            with open(path, encoding="utf-8") as f:
                vocabulary = json.load(f)["words"]
        except FileNotFoundError:
            log(f"(no {path}: captions as word ids)")
    text = (lambda ids: " ".join(vocabulary[i] for i in ids)) if vocabulary else (lambda ids: " ".join(map(str, ids)))
    exact, count = 0, 0
    lines = []
    for got, want in zip(predicted, labels):
        (words, ended), (truth, _) = _caption(got, end_token), _caption(want, end_token)
        exact += ended and words == truth
        count += 1
        if len(lines) < shown:
            lines.append(f"  predicted: {text(words) or '(nothing)'}{'' if ended else ' (no end)'} | truth: {text(truth)}")
    log(f"validation captions, greedy (the first {len(lines)} of {count}):")
    for line in lines:
        log(line)
    rate = exact / count if count else 0.0
    log(f"exact captions: {rate:.4f} ({exact} of {count})")
    return rate
