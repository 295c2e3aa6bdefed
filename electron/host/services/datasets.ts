// Datasets: the ones offered, a request checked against engine/data's schema, and a
// preview of what training would see.
import type { DatasetInfo, DatasetPreview, HostRequestParsed } from '../../../common/host-api/api.js';
import { BUILTIN_DATASETS, isBuiltinDataset } from '../../../engine/data/builtin.js';
import { datasetSpecSchema, type DatasetSpec } from '../../../engine/data/index.js';
import { previewData } from '../../../engine/data/preview.js';
import { SPAM_CLASSES } from '../../../engine/data/spam.js';
import { DIGIT_CAPTIONS, DIGIT_WORDS, END, isCaptionDataset, PAD, START } from '../../../engine/data/captions.js';
import { isBuiltinText } from '../../../engine/data/text-dataset.js';
import { isSyntheticTask, SYNTHETIC_TASKS } from '../../../engine/schemas/dataset.js';
import { checkGraphSchema } from '../../../engine/graph/schema.js';
import { inputHint } from '../../../engine/train/setup.js';
import type { PathPolicy } from '../paths.js';

export type DatasetRequestParsed = HostRequestParsed<'startTraining'>['dataset'];

export class DatasetService {
  constructor(
    private readonly paths: PathPolicy,
    private readonly offered?: () => Promise<DatasetInfo[]>,
  ) {}

  async listDatasets(): Promise<DatasetInfo[]> {
    return this.offered ? this.offered() : builtinDatasets();
  }

  /** Checks a dataset request; a file or folder must be one the renderer may name (the workspace, in browser mode). */
  async datasetSpec(dataset: DatasetRequestParsed): Promise<DatasetSpec> {
    const spec = datasetSpecSchema.safeParse(dataset);
    if (!spec.success) throw new Error(`dataset: ${spec.error.issues.map((i) => `${i.path.join('.') || 'dataset'}: ${i.message}`).join('; ')}`);
    const data = spec.data;
    if (!isBuiltinDataset(data.name) && !isCaptionDataset(data.name) && !isBuiltinText(data.name) && !isSyntheticTask(data.name.replace(/^synthetic:/, '')))
      data.name = await this.paths.resolve(data.name, 'data');
    return data;
  }

  async previewDataset({ dataset, graph }: HostRequestParsed<'previewDataset'>): Promise<DatasetPreview> {
    let spec: DatasetSpec;
    try {
      spec = await this.datasetSpec(dataset);
    } catch (err) {
      return { ok: false, name: dataset.name, error: (err as Error).message };
    }
    return previewDataset(spec, graph);
  }
}

/** Loads a dataset as training would (the graph's input decides image size and sequence length) and shows a few samples, or the error. */
export async function previewDataset(spec: DatasetSpec, graph: unknown, examples = 8): Promise<DatasetPreview> {
  const g = graph ? checkGraphSchema(graph).graph : undefined;
  let hint;
  try {
    hint = g ? inputHint(g) : undefined;
  } catch {
    hint = undefined; // a graph with errors: the dataset's own shape
  }
  try {
    return { ok: true, ...(await previewData(spec, hint, examples)) };
  } catch (err) {
    return { ok: false, name: spec.name, error: (err as Error).message };
  }
}

/** The built-in image sets, the spam corpus and the synthetic sequence tasks (text and sequence shapes follow the graph's input). */
export function builtinDatasets(): DatasetInfo[] {
  const images: DatasetInfo[] = Object.entries(BUILTIN_DATASETS).map(([id, b]) => ({
    id,
    name: id === 'mnist' ? 'MNIST' : 'Fashion-MNIST',
    kind: 'image',
    description: id === 'mnist' ? 'Handwritten digits, 28×28 grey, 10 classes.' : 'Clothing images, 28×28 grey, 10 classes.',
    inputShape: [28, 28, 1],
    classes: [...b.classNames],
  }));
  const tasks: DatasetInfo[] = Object.entries(SYNTHETIC_TASKS).map(([task, description]) => ({
    id: task,
    name: `Synthetic: ${task}`,
    kind: 'sequence',
    description,
    inputShape: [],
  }));
  const spam: DatasetInfo = {
    id: 'spam',
    name: 'Spam (SpamAssassin)',
    kind: 'text',
    description: 'E-mail bodies from the SpamAssassin public corpus, ham or spam; tokenised into words, vocabulary from the training split.',
    inputShape: [],
    classes: [...SPAM_CLASSES],
  };
  const captions: DatasetInfo = {
    id: DIGIT_CAPTIONS.name,
    name: 'Digit captions',
    kind: 'image',
    description: `${DIGIT_CAPTIONS.minDigits}–${DIGIT_CAPTIONS.maxDigits} MNIST digits on a ${DIGIT_CAPTIONS.height}×${DIGIT_CAPTIONS.width} canvas, captioned with their names left to right (a word per step, then <end>).`,
    inputShape: [DIGIT_CAPTIONS.height, DIGIT_CAPTIONS.width, 1],
    classes: [PAD, START, END, ...DIGIT_WORDS],
  };
  return [...images, captions, spam, ...tasks];
}
