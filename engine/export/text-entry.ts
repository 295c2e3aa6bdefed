// The text entry point written beside an exported text model (`attn export --weights`
// of a run trained on text): a Python script that tokenises texts exactly as the run's
// tokenizer did (engine/data/text.ts), with the vocabulary saved beside the model,
// and prints the trained model's class probabilities as `attn predict --text --json` does.
import type { ExportTarget } from '../blocks/emit/targets.js';

/** The files of an exported model that the entry point reads, by base name (they sit in one folder). */
export interface TextEntryFiles {
  model: string;
  weights: string;
  vocabulary: string;
}

// engine/data/text.ts's TOKEN in Python's re: [^\W_] is a letter or digit, as \p{L}\p{N} is.
const TOKENIZER = String.raw`# A word is a run of letters and digits (inner apostrophes kept); every other visible
# character is a token of its own, so "free!!!" is free, !, !, ! (as Attention Studio splits it).
TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[^\s\w]|_")
PAD_ID = 0
UNK_ID = 1


def load_vocabulary(path=VOCABULARY):
    """The vocabulary the run was trained with: tokens by id, maxLength, lowercase."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def encode(texts, vocabulary):
    """Texts as lists of token ids, cut or padded (with PAD_ID) to the vocabulary's maxLength."""
    ids = {t: i for i, t in enumerate(vocabulary["tokens"])}
    length = vocabulary["maxLength"]
    rows = []
    for text in texts:
        words = TOKEN.findall(text.lower() if vocabulary["lowercase"] else text)[:length]
        row = [ids.get(w, UNK_ID) for w in words]
        rows.append(row + [PAD_ID] * (length - len(row)))
    return rows


def load_module():
    """The exported model's module, loaded from its file (whatever its name)."""
    spec = importlib.util.spec_from_file_location("exported_model", MODEL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
`;

const PREDICT: Record<'pytorch' | 'keras', string> = {
  pytorch: `def predict_texts(texts):
    """Class probabilities for each text, from the trained weights."""
    import torch

    m = load_module()
    model = m.load_weights(m.Model(), str(WEIGHTS))
    return model.predict(torch.tensor(encode(texts, load_vocabulary()), dtype=torch.long)).numpy()
`,
  keras: `def predict_texts(texts):
    """Class probabilities for each text, from the trained weights."""
    import numpy as np

    m = load_module()
    model = m.build_model()
    m.load_weights(model, str(WEIGHTS))
    return np.asarray(model.predict(np.array(encode(texts, load_vocabulary()), dtype="int32"), verbose=0))
`,
};

/** Whether a target gets a text entry point (the tfjs export gets the vocabulary only). */
export const hasTextEntry = (target: ExportTarget): target is 'pytorch' | 'keras' => target === 'pytorch' || target === 'keras';

/** The entry point's Python source, reading the files named in `files` from its own folder. */
export function textEntry(target: 'pytorch' | 'keras', files: TextEntryFiles, entryName: string): string {
  return `"""Texts in, class probabilities out: the exported model (${files.model}) with its trained weights.

Tokenises as Attention Studio did when it trained the run, with the vocabulary in
${files.vocabulary} (PAD is id 0, UNK is id 1).

    python ${entryName} "first text" "second text"

prints {"shape": [texts, classes], "data": [...]}, as \`attn predict --text --json\` does.
"""
import importlib.util
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL = HERE / ${JSON.stringify(files.model)}
WEIGHTS = HERE / ${JSON.stringify(files.weights)}
VOCABULARY = HERE / ${JSON.stringify(files.vocabulary)}

${TOKENIZER}

${PREDICT[target]}

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(f"usage: python {sys.argv[0]} TEXT [TEXT ...]")
    probs = predict_texts(sys.argv[1:])
    print(json.dumps({"shape": list(probs.shape), "data": [float(p) for p in probs.reshape(-1)]}))
`;
}
