// One entry point from a dataset description (what the CLI and the app send) to a
// shuffled, split and normalised pair of datasets.
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { ArrayDataset, splitDataset, standardize, type Normalization } from './dataset.js';
import { BUILTIN_DATASETS, loadBuiltin } from './builtin.js';
import { isSyntheticTask, syntheticDataset, SYNTHETIC_TASK_NAMES } from './synthetic.js';
import { loadImageFolder } from './image-folder.js';
import { loadCsv } from './csv.js';
import { deriveSeed } from './random.js';

export * from './dataset.js';

export { datasetSpecSchema, type DatasetSpec } from './spec.js';
import { datasetSpecSchema, type DatasetSpec } from './spec.js';

/** What the model's input wants: the sample shape (no batch axis) and, for tokens, the vocabulary. */
export interface InputHint {
  shape: readonly number[];
  vocab?: number;
}

export interface PreparedData {
  train: ArrayDataset;
  validation: ArrayDataset;
  classNames: readonly string[];
  /** Set when inputs were standardised: apply the same to new inputs. */
  normalization?: Normalization;
}

export const datasetNames = (): string[] => [...Object.keys(BUILTIN_DATASETS), ...SYNTHETIC_TASK_NAMES];

async function load(spec: z.output<typeof datasetSpecSchema>, hint?: InputHint): Promise<ArrayDataset> {
  const { name, limit, seed } = spec;
  if (name in BUILTIN_DATASETS) return loadBuiltin(name, { limit, seed: deriveSeed(seed, 'limit') });
  const task = name.replace(/^synthetic:/, '');
  if (isSyntheticTask(task)) {
    const length = spec.length ?? hint?.shape[0] ?? 16;
    const vocab = spec.vocab ?? hint?.vocab ?? 16;
    return syntheticDataset({ task, length, vocab, size: spec.size ?? limit ?? 2048, seed: deriveSeed(seed, 'synthetic') });
  }
  const info = await stat(name).catch(() => undefined);
  if (!info) throw new Error(`unknown dataset "${name}": not one of ${datasetNames().join(', ')}, and no such file or folder`);
  if (info.isDirectory()) {
    const [height, width, channels] = hint?.shape.length === 3 ? hint.shape : [28, 28, 1];
    if (channels !== 1 && channels !== 3) throw new Error(`image folder ${name}: the model's input has ${channels} channels; images give 1 (grey) or 3 (RGB)`);
    const ds = await loadImageFolder(name, { height, width, channels });
    return limit && limit < ds.size ? splitDataset(ds, 1 - limit / ds.size, deriveSeed(seed, 'limit')).train : ds;
  }
  if (/\.csv$/i.test(name)) {
    const ds = await loadCsv(name, { label: spec.label });
    return limit && limit < ds.size ? ds.subset(Array.from({ length: limit }, (_, i) => i)) : ds;
  }
  throw new Error(`dataset ${name}: a file dataset must be a .csv file (or pass a folder of class folders)`);
}

export async function prepareData(input: DatasetSpec, hint?: InputHint): Promise<PreparedData> {
  const spec = datasetSpecSchema.parse(input);
  const all = await load(spec, hint);
  const { train, validation } = splitDataset(all, spec.validationSplit, deriveSeed(spec.seed, 'split'));
  // Images arrive in [0, 1] and tokens are ids: only tables are standardised unless asked.
  const wantStandardize = spec.normalize === 'standardize' || (spec.normalize === 'auto' && all.inputShape.length === 1 && all.inputDtype === 'float32');
  if (!wantStandardize) return { train, validation, classNames: all.classNames };
  const s = standardize(train, validation);
  return { train: s.train, validation: s.validation, classNames: all.classNames, normalization: s.stats };
}
