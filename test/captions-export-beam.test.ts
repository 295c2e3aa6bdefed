// Beam search in the PyTorch export of the captioner: with a run's trained weights,
// ShowAttendTell.decode(model, image, beam=K) finds the captions and log-probabilities
// that `attn predict --beam K --json` finds (the app's engine/worker/caption-decode.ts),
// every beam of them in the same order, and beam 1 is the export's greedy decode.
// `attn export --weights` writes the run's caption words beside each export, and the
// exported decoders (PyTorch, TypeScript) read them to write words, not ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import type { Tensor } from '../engine/blocks/contract.js';
import { attn } from './helpers/cli.js';
import { templatesDir } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';
import { PYTHON, skipWithoutTorch } from './helpers/torch.js';
import { scratchDir } from './helpers/exports.js';
import { digitCaptions, DIGIT_CAPTION_CLASSES, END_ID } from '../engine/data/captions.js';
import type { GraphFile } from '../engine/graph/types.js';
import { writeNpy } from '../engine/weights/npy.js';
import { beamCaptions, type BeamCaption } from '../engine/worker/caption-decode.js';
import { loadTrainedModel } from '../engine/worker/run-model.js';

const TEMPLATE = `${templatesDir}sat-digit-captions.attn.json`;
const SAMPLES = 8;
const BEAM = 3;
const TOLERANCE = 1e-4;

interface PythonDecode {
  /** Per beam size, per sample, the captions found (best first). */
  beams: Record<string, [number[], number][][]>;
  /** The best caption of each sample as text (ShowAttendTell.words), at beam 3 and at beam 1. */
  captions: string[];
  beam1: string[];
  /** The greedy captions of the exported model's predict() (ShowAttendTell.captions). */
  greedy: string[];
}

const DECODE = `
import importlib.util, json, sys
import numpy as np, torch
spec = importlib.util.spec_from_file_location("exported", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
model = m.load_weights(m.Model(), sys.argv[2])
x = torch.from_numpy(np.load(sys.argv[3])).permute(0, 3, 1, 2).contiguous()
beams = {k: m.ShowAttendTell.decode(model, x, beam=k) for k in (1, ${BEAM})}
# The words: those attn export wrote beside sat.py.
print(json.dumps({
    "beams": beams,
    "captions": m.ShowAttendTell.caption(model, x, beam=${BEAM}),
    "beam1": m.ShowAttendTell.caption(model, x),
    "greedy": m.ShowAttendTell.captions(model.predict(x)),
}))`;

/** `attn export --weights` said it wrote the run's caption words beside `model`, and did. */
function assertWordsBeside(stdout: string, model: string) {
  const file = model.replace(/\.(py|ts)$/, '.vocabulary.json');
  assert.ok(stdout.split('\n').includes(`wrote ${file}`), stdout);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { words: DIGIT_CAPTION_CLASSES });
}

/** The TypeScript export of `run` (in the project, where its tfjs import resolves) reads the words beside it and captions the word probabilities `probs`. */
async function tsCaptions(run: string, probs: Tensor): Promise<string[]> {
  const dir = scratchDir('captions-words-');
  const exported = await attn('export', TEMPLATE, '--to', 'tfjs', '--weights', run, '--out', path.join(dir, 'sat.ts'));
  assert.equal(exported.code, 0, exported.stderr);
  assertWordsBeside(exported.stdout, path.join(dir, 'sat.ts'));
  const js = ts.transpileModule(readFileSync(path.join(dir, 'sat.ts'), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  writeFileSync(path.join(dir, 'sat.js'), js.outputText);
  const mod = (await import(pathToFileURL(path.join(dir, 'sat.js')).href)) as {
    readCaptionVocabulary(): Promise<string[]>;
    captionTexts(words: Tensor, vocabulary: readonly string[]): string[];
  };
  try {
    return mod.captionTexts(probs, await mod.readCaptionVocabulary());
  } finally {
    probs.dispose();
  }
}

function assertSameBeams(got: [number[], number][][], want: BeamCaption[][], what: string) {
  assert.equal(got.length, want.length, `${what}: one list per sample`);
  want.forEach((found, s) => {
    assert.deepEqual(
      got[s].map(([ids]) => ids),
      found.map((c) => c.ids),
      `${what}, sample ${s}: the same captions in the same order`,
    );
    found.forEach((c, k) =>
      assert.ok(Math.abs(got[s][k][1] - c.logProb) < TOLERANCE, `${what}, sample ${s}, beam ${k}: PyTorch ${got[s][k][1]}, app ${c.logProb}`),
    );
  });
}

test(
  'PyTorch export with trained weights: ShowAttendTell.decode(beam=3) gives the captions and log-probabilities of attn predict --beam 3',
  { timeout: 300_000 },
  async (t) => {
    if (skipWithoutTorch(t, 'beam search in the PyTorch export')) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'attn-captions-beam-'));
    try {
      const run = path.join(dir, 'run');
      const trained = await attn('train', TEMPLATE, '--dataset', 'digit-captions', '--limit', '1024', '--epochs', '2', '--out', run);
      assert.equal(trained.code, 0, trained.stderr);
      const { validation } = await digitCaptions({ size: 256, seed: 0 });
      const shape = [SAMPLES, ...validation.inputShape];
      const data = (validation.x as Float32Array).slice(
        0,
        shape.reduce((a, b) => a * b),
      );
      const input = path.join(dir, 'x.npy');
      writeFileSync(input, writeNpy({ shape, data }));

      const predicted = await attn('predict', TEMPLATE, '--weights', run, '--input', input, '--beam', String(BEAM), '--json');
      assert.equal(predicted.code, 0, predicted.stderr);
      const app = JSON.parse(predicted.stdout) as { captions: string[]; logProbs: number[] };

      const exported = await attn('export', TEMPLATE, '--to', 'pytorch', '--weights', run, '--out', path.join(dir, 'sat.py'));
      assert.equal(exported.code, 0, exported.stderr);
      assertWordsBeside(exported.stdout, path.join(dir, 'sat.py'));
      // Keras is not installed here: its export gets the words too, and compiles.
      const keras = await attn('export', TEMPLATE, '--to', 'keras', '--weights', run, '--out', path.join(dir, 'sat_keras.py'));
      assert.equal(keras.code, 0, keras.stderr);
      assertWordsBeside(keras.stdout, path.join(dir, 'sat_keras.py'));
      execFileSync(PYTHON, ['-m', 'py_compile', path.join(dir, 'sat_keras.py')], { timeout: 60_000 });
      const py = JSON.parse(
        execFileSync(PYTHON, ['-c', DECODE, path.join(dir, 'sat.py'), path.join(dir, 'sat.safetensors'), input], {
          encoding: 'utf8',
          timeout: 120_000,
        }),
      ) as PythonDecode;

      assert.ok(
        app.captions.some((c) => c.includes(' ')),
        `a short run already writes captions of several words: ${app.captions}`,
      );
      assert.deepEqual(py.captions, app.captions, "the best beam-3 caption of each sample is attn predict's");
      app.logProbs.forEach((lp, s) =>
        assert.ok(Math.abs(py.beams[BEAM][s][0][1] - lp) < TOLERANCE, `sample ${s}: log-probability PyTorch ${py.beams[BEAM][s][0][1]}, attn predict ${lp}`),
      );
      assert.deepEqual(py.beam1, py.greedy, "beam 1 is the export's greedy decode");

      // Every beam, not only the best: the app's beam search on the same trained weights, in this process.
      const tf = await tfReady;
      const graph = JSON.parse(readFileSync(TEMPLATE, 'utf8')) as GraphFile;
      const { compiled } = await loadTrainedModel(tf, graph, run);
      const x = tf.tensor(data, shape);
      try {
        for (const beam of [1, BEAM]) assertSameBeams(py.beams[beam], beamCaptions(tf, compiled, x, beam, END_ID), `beam ${beam}`);
        assert.deepEqual(
          await tsCaptions(run, compiled.model.predict(x) as Tensor),
          py.greedy,
          "the TypeScript export's greedy captions, in the words beside it",
        );
        assert.ok(
          py.beams[BEAM].some((found) => found.length === BEAM),
          'some sample has all three beams (the comparison reaches past the best)',
        );
      } finally {
        x.dispose();
        compiled.model.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
