// Learning-rate schedules, as pure functions of the step so that a resumed run
// gets exactly the rates an uninterrupted one would.
import type { TrainConfig } from '../schemas/train-config.js';

/** The rate for global batch `step` (0-based) of `totalSteps`, `stepsPerEpoch` batches per epoch. */
export function learningRate(c: TrainConfig, step: number, totalSteps: number, stepsPerEpoch: number): number {
  if (step < c.warmupSteps) return (c.lr * (step + 1)) / c.warmupSteps;
  switch (c.schedule) {
    case 'constant':
      return c.lr;
    case 'step':
      return c.lr * c.gamma ** Math.floor(step / stepsPerEpoch / c.stepEpochs);
    case 'cosine': {
      const span = Math.max(1, totalSteps - c.warmupSteps);
      const progress = Math.min(1, (step - c.warmupSteps) / span);
      return c.minLr + 0.5 * (c.lr - c.minLr) * (1 + Math.cos(Math.PI * progress));
    }
  }
}
