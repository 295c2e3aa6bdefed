/**
 * A graph file's `training` block as trainer settings. Graph files spell the
 * rate `learningRate`; the trainer's own name for it is `lr`.
 */
export function graphTrainingConfig(training: Record<string, unknown> | undefined): Record<string, unknown> {
  const { learningRate, ...rest } = training ?? {};
  return learningRate !== undefined && rest.lr === undefined ? { ...rest, lr: learningRate } : rest;
}
