// Timed rounds of the real trainer, paused in between so another side (PyTorch)
// can run on the same machine in the same minute: one Trainer per template, kept
// warm (compiled kernels, data-parallel replicas) across rounds.
import type { TF } from '../engine/blocks/contract.js';
import type { PreparedData } from '../engine/data/index.js';
import type { GraphFile } from '../engine/graph/types.js';
import type { TrainConfigInput } from '../engine/schemas/train-config.js';
import { Trainer } from '../engine/train/trainer.js';

export interface Round {
  samplesPerSec: number;
  steps: number;
  seconds: number;
  /** Process CPU ms per step (every thread, replicas included). */
  cpuMsPerStep: number;
  /** Probe runs and their ms inside the round. */
  probeRuns: number;
  probeMs: number;
}

/**
 * A trainer that runs only when asked: `round()` resumes it until at least
 * `seconds` have passed and `minSteps` steps are done, then pauses it before
 * the next batch. A round's time runs from the resume to the pause, so it
 * holds the steps and everything the trainer does between them (probes at
 * their default rate, epoch ends), as a continuous run would.
 */
export class TrainerRounds {
  readonly trainer: Trainer;
  private readonly done: Promise<unknown>;
  private readonly batchSize: number;
  private readonly trainSize: number;
  private steps = 0;
  private samples = 0;
  /** The pause the trainer is in or heading for. */
  private lastPause: Promise<number>;
  private goal: { start: number; seconds: number; minSteps: number } | null = null;
  private pausedAt: ((t: number) => void) | null = null;
  private failure: unknown = null;

  constructor(tf: TF, graph: GraphFile, data: PreparedData, config: TrainConfigInput & { batchSize: number }) {
    this.batchSize = config.batchSize;
    this.trainSize = data.train.size;
    this.trainer = new Trainer({
      tf,
      graph,
      // Epochs enough for any number of rounds; stop() ends the run.
      data: { ...data, validation: data.validation.subset([]) },
      config: { ...config, epochs: 100_000 },
      onEvent: (e) => {
        if (e.type === 'progress') {
          this.steps++;
          // An epoch's last batch holds what is left.
          this.samples += e.batch < e.batches ? this.batchSize : this.trainSize - (e.batches - 1) * this.batchSize;
          const g = this.goal;
          if (g && this.steps >= g.minSteps && performance.now() - g.start >= g.seconds * 1000) this.trainer.pause();
        } else if (e.type === 'paused') this.pausedAt?.(performance.now());
      },
    });
    this.trainer.pause();
    this.lastPause = this.nextPause();
    this.done = this.trainer.run().catch((err) => {
      this.failure = err;
      this.pausedAt?.(NaN);
    });
  }

  private nextPause(): Promise<number> {
    return new Promise<number>((resolve) => (this.pausedAt = resolve));
  }

  /** Resumes the trainer for one round and waits for its pause. */
  async round(seconds: number, minSteps: number): Promise<Round> {
    await this.lastPause;
    if (this.failure) throw this.failure;
    const paused = (this.lastPause = this.nextPause());
    this.steps = 0;
    this.samples = 0;
    const probe0 = this.trainer.probeStats;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    this.goal = { start, seconds, minSteps };
    this.trainer.resume();
    const end = await paused;
    if (this.failure) throw this.failure;
    const cpu = process.cpuUsage(cpu0);
    const probe = this.trainer.probeStats;
    const ms = end - start;
    return {
      samplesPerSec: (this.samples * 1000) / ms,
      steps: this.steps,
      seconds: ms / 1000,
      cpuMsPerStep: (cpu.user + cpu.system) / 1000 / this.steps,
      probeRuns: probe.runs - probe0.runs,
      probeMs: probe.ms - probe0.ms,
    };
  }

  /** Ends the run and frees the model. */
  async close(): Promise<void> {
    await this.lastPause;
    this.goal = null;
    this.trainer.stop();
    await this.done;
    this.trainer.dispose();
  }
}
