// The sweep settings the sweep tests share where they test something else.

/** A grid over MNIST that keeps the trial of highest validation accuracy, stopping trials below the median early. */
export const MNIST_GRID = { strategy: 'grid', seed: 0, metric: 'val_accuracy', goal: 'max', earlyStop: 'median', dataset: 'mnist' } as const;
