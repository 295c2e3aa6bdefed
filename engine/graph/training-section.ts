/**
 * A graph file's `training` block as trainer settings. Graph files spell the
 * rate `learningRate`; the trainer's own name for it is `lr`.
 */
export function graphTrainingConfig(training: Record<string, unknown> | undefined): Record<string, unknown> {
  const { learningRate, ...rest } = training ?? {};
  return learningRate !== undefined && rest.lr === undefined ? { ...rest, lr: learningRate } : rest;
}

/**
 * The settings a graph file's `dataset` section keeps for dataset `name` (a text
 * template's `minCount`, a task's `size`, …): none when it names another dataset.
 * Its `name` and its `note` (words for people) are left out.
 */
export function savedDatasetSettings(dataset: Record<string, unknown> | undefined, name: string): Record<string, unknown> {
  const { name: saved, note: _note, ...settings } = dataset ?? {};
  const plain = (s: unknown) => String(s).replace(/^synthetic:/, '');
  return saved !== undefined && plain(saved) === plain(name) ? settings : {};
}
