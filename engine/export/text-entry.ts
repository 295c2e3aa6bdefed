// The text entry point written beside an exported text model (`attn export --weights`
// of a run trained on text): a Python script (PyTorch, Keras) or a TypeScript module
// (tfjs) that tokenises texts exactly as the run's tokenizer did (engine/data/text.ts),
// with the vocabulary saved beside the model, and prints the trained model's class
// probabilities as `attn predict --text --json` does.
import type { ExportTarget } from '../blocks/emit/targets.js';
import { tfjsHelperSources } from './tfjs-sources.js';

/** The files of an exported model that the entry point reads, by base name (they sit in one folder). */
export interface TextEntryFiles {
  model: string;
  weights: string;
  vocabulary: string;
}

// engine/data/tokenize.ts's TOKEN in Python's re: [^\W_] is a letter or digit, as \p{L}\p{N} is. White space
// is JavaScript's, spelled out: Python's \s and strip() also take \x1c-\x1f and \x85, and leave \ufeff.
const TOKENIZER = String.raw`# White space as Attention Studio (JavaScript's \s and trim()) has it; Python's own differs: \x1c-\x1f and
# \x85 are space to it, the byte order mark \ufeff is not.
SPACE = "\t\n\v\f\r \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000\ufeff"
# A word is a run of letters and digits (inner apostrophes kept); every other visible
# character is a token of its own, so "free!!!" is free, !, !, ! (as Attention Studio splits it).
TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[^\w" + SPACE + "]|_")
PAD_ID = 0
UNK_ID = 1


def load_vocabulary(path=VOCABULARY):
    """The vocabulary the run was trained with: tokens by id, maxLength, lowercase (and maxSentences)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# Sentences (hierarchical models): split after . ! ? and at blank lines.
SENTENCE_END = re.compile(r"(?<=[.!?])[" + SPACE + r"]+|\n[" + SPACE + r"]*\n")


def encode_words(words, ids, length):
    """Ids of the first length words, padded with PAD_ID up to length."""
    row = [ids.get(w, UNK_ID) for w in words[:length]]
    return row + [PAD_ID] * (length - len(row))


def encode(texts, vocabulary):
    """Texts as token ids, cut or padded (with PAD_ID) to the vocabulary's maxLength; with
    maxSentences, each text is [maxSentences][maxLength]: its first sentences that hold words."""
    ids = {t: i for i, t in enumerate(vocabulary["tokens"])}
    length = vocabulary["maxLength"]
    sentences = vocabulary.get("maxSentences")

    def words(text):
        return TOKEN.findall(text.lower() if vocabulary["lowercase"] else text)

    if not sentences:
        return [encode_words(words(text), ids, length) for text in texts]
    rows = []
    for text in texts:
        split = [w for w in (words(s.strip(SPACE)) for s in SENTENCE_END.split(text)) if w][:sentences]
        rows.append([encode_words(w, ids, length) for w in split] + [[PAD_ID] * length] * (sentences - len(split)))
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

/** Whether a target gets a Python text entry point (the tfjs export gets a TypeScript one, tfjsTextEntry). */
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

/** The files of an exported tfjs text model that its entry point reads, by base name (they sit in one folder). */
export interface TfjsTextEntryFiles {
  /** The exported TypeScript module (its custom layers register when it is imported). */
  model: string;
  /** The trained model folder: model.json + weights.bin. */
  modelDir: string;
  vocabulary: string;
}

/** The app's tokenizer (engine/data/tokenize.ts; helper sources are named below engine/blocks/), as the entry copies it. */
const tokenizerSource = () => tfjsHelperSources(['PAD_ID', 'encodeTexts'].map((name) => ({ name, source: '../data/tokenize.ts' }))).join('\n\n');

/**
 * The TypeScript entry point of a tfjs text export: the tokenizer of engine/data/tokenize.ts
 * as a module of its own (`encode` gives the ids the app gives), and `predictTexts`
 * through the trained model. Compile it with the exported model (tsc) and run it with Node.
 */
export function tfjsTextEntry(files: TfjsTextEntryFiles, entryName: string): string {
  const moduleJs = files.model.replace(/\.ts$/, '.js');
  return `/**
 * Texts in, class probabilities out: the exported model (${files.model}) with its trained weights
 * (${files.modelDir}/). Tokenises as Attention Studio did when it trained the run, with the vocabulary in
 * ${files.vocabulary} (PAD is id 0, UNK is id 1).
 *
 *   node ${entryName.replace(/\.ts$/, '.js')} "first text" "second text"
 *
 * prints {"shape": [texts, classes], "data": [...]}, as \`attn predict --text --json\` does.
 */
import * as tf from '@tensorflow/tfjs';
import './${moduleJs}'; // registers the model's custom layers, so that its trained folder loads

${tokenizerSource()}

/** Each text's ids, as attn encodes them: [texts × maxLength], or [texts × maxSentences × maxLength], flattened. */
export const encode = encodeTexts;
export { words, PAD_ID, UNK_ID, type Vocabulary };

const here = (name: string) => new URL(name, import.meta.url);

export async function loadVocabulary(file = here(${JSON.stringify(files.vocabulary)})): Promise<Vocabulary> {
  const { readFileSync } = await import('node:fs');
  return JSON.parse(readFileSync(file, 'utf8')) as Vocabulary;
}

/** The trained model, read from its folder (model.json + weights.bin). */
export async function loadModel(dir = here(${JSON.stringify(`${files.modelDir}/`)})): Promise<tf.LayersModel> {
  const { readFileSync } = await import('node:fs');
  const json = JSON.parse(readFileSync(new URL('model.json', dir), 'utf8'));
  const manifest = json.weightsManifest as { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  const chunks = manifest.flatMap((g) => g.paths.map((p) => readFileSync(new URL(p, dir))));
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (bytes.set(c, at), at + c.length), 0);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: manifest.flatMap((g) => g.weights), weightData: bytes.buffer }));
}

/** Class probabilities for each text, from the trained weights. */
export async function predictTexts(texts: string[]): Promise<tf.Tensor> {
  const [vocabulary, model] = await Promise.all([loadVocabulary(), loadModel()]);
  const shape = vocabulary.maxSentences ? [texts.length, vocabulary.maxSentences, vocabulary.maxLength] : [texts.length, vocabulary.maxLength];
  const x = tf.tensor(encode(texts, vocabulary), shape, 'int32');
  const y = model.predict(x);
  return Array.isArray(y) ? y[0] : y;
}

if (typeof process !== 'undefined' && process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  const texts = process.argv.slice(2);
  if (!texts.length) {
    console.error(\`usage: node \${process.argv[1]} TEXT [TEXT ...]\`);
    process.exit(1);
  }
  const probs = await predictTexts(texts);
  console.log(JSON.stringify({ shape: probs.shape, data: Array.from(await probs.data()) }));
}
`;
}
