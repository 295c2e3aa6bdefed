// A dataset as training would see it, shown before training: its shapes, class
// counts, split sizes, the first training samples and the validation samples
// the trainer probes. It runs in the app's own process, so it builds only what
// it shows where it can: a synthetic task's shown sequences and an image
// folder's shown images (counted from the listing), not the whole dataset.
import { ArrayDataset, sizeOf, splitIndices } from './dataset.js';
import { datasetSource, datasetSpecSchema, prepareData, prepareFrom, standardizes, type DatasetSpec, type InputHint } from './index.js';
import { isCaptionDataset } from './captions.js';
import { deriveSeed } from './random.js';
import type { DataPreview, PreviewSample } from '../schemas/dataset.js';
import { encodeCorpus, loadTextCorpus } from './text-dataset.js';

export type { DataPreview, PreviewSample };

/** The trainer probes at most this many samples. */
export const PREVIEW_PROBES = 64;

function sampleAt(ds: ArrayDataset, i: number): PreviewSample {
  const r = ds.row(i);
  const per = sizeOf(ds.inputShape);
  const ls = sizeOf(ds.labelShape);
  const x = ds.x.subarray(r * per, (r + 1) * per);
  return { x: x instanceof Int32Array ? Int32Array.from(x) : Float32Array.from(x), label: [...ds.labels.subarray(r * ls, (r + 1) * ls)] };
}

const samplesOf = (ds: ArrayDataset, from: number, n: number) =>
  Array.from({ length: Math.max(0, Math.min(n, ds.size - from)) }, (_, i) => sampleAt(ds, from + i));

function countClasses(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) counts[labels[i]]++;
  return counts;
}

export async function previewData(input: DatasetSpec, hint?: InputHint, examples = 8): Promise<DataPreview> {
  const spec = datasetSpecSchema.parse(input);
  const corpus = await loadTextCorpus(spec);
  if (corpus) {
    const text = encodeCorpus(corpus, spec, hint);
    return { ...previewOf(text, examples), vocabulary: { size: text.vocabulary.tokens.length, tokens: text.vocabulary.tokens } };
  }
  // digit-captions keeps its own split (prepareData): the probes shown must be the canvases the trainer probes.
  if (isCaptionDataset(spec.name)) return previewOf(await prepareData(spec, hint), examples);
  const source = await datasetSource(spec, hint);
  const split = deriveSeed(spec.seed, 'split');

  if (!(source instanceof ArrayDataset) && spec.normalize !== 'standardize') {
    // Built on demand: split the indices as training does, then build the shown samples only.
    const { train, validation } = splitIndices(source.name, source.size, spec.validationSplit, split);
    const probeRows = (validation.length > 0 ? validation : train).subarray(0, PREVIEW_PROBES);
    const trainRows = train.subarray(0, examples);
    const shown = await source.build([...trainRows, ...probeRows]);
    if (!standardizes(spec, shown)) {
      return {
        ...layoutOf(shown, source.classNames),
        classCounts: shown.labelShape.length || !source.labels ? [] : countClasses(source.labels, source.classNames.length),
        trainSamples: train.length,
        validationSamples: validation.length,
        normalized: false,
        samples: samplesOf(shown, 0, trainRows.length),
        probes: samplesOf(shown, trainRows.length, probeRows.length),
      };
    }
  }

  const data = prepareFrom(spec, source instanceof ArrayDataset ? source : await source.build());
  return previewOf(data, examples);
}

/** A dataset's name, sample layout and class names, as the preview shows them. */
function layoutOf(ds: ArrayDataset, classNames: readonly string[]) {
  return { name: ds.name, inputShape: [...ds.inputShape], inputDtype: ds.inputDtype, labelShape: [...ds.labelShape], classNames: [...classNames] };
}

function previewOf(
  data: { train: ArrayDataset; validation: ArrayDataset; classNames: readonly string[]; normalization?: unknown },
  examples: number,
): DataPreview {
  const { train, validation } = data;
  const counts = new Array<number>(data.classNames.length).fill(0);
  if (!train.labelShape.length) for (const ds of [train, validation]) for (let i = 0; i < ds.size; i++) counts[ds.labels[ds.row(i)]]++;
  return {
    ...layoutOf(train, data.classNames),
    classCounts: train.labelShape.length ? [] : counts,
    trainSamples: train.size,
    validationSamples: validation.size,
    normalized: data.normalization !== undefined,
    samples: samplesOf(train, 0, examples),
    probes: samplesOf(validation.size > 0 ? validation : train, 0, PREVIEW_PROBES),
  };
}
