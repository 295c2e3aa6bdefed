// Training throughput of the compiled benchmark graph (templates/bench-se-cnn:
// conv-SE CNN, 21,042 parameters, batch 64, Adam) on MNIST through the real
// trainer, and what the attention probes cost: probes off, at the default rate,
// and after every batch.
//   node dist/bench/train.js [--backend auto|wasm|cpu|...] [--samples N]
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { selectBackend, type BackendOption } from '../engine/backends/select.js';
import { prepareData } from '../engine/data/index.js';
import { trainConfigSchema, type TrainConfigInput } from '../engine/train/config.js';
import { Trainer } from '../engine/train/trainer.js';
import { parseGraphText } from '../engine/graph/schema.js';

const templateFile = fileURLToPath(new URL('../../templates/bench-se-cnn.attn.json', import.meta.url));

export async function benchTrain(opts: { backend?: BackendOption; samples?: number } = {}) {
  const graph = parseGraphText(readFileSync(templateFile, 'utf8')).graph!;
  const { tf, backend, skipped } = await selectBackend({ backend: opts.backend ?? 'auto' });
  const data = await prepareData({ name: 'mnist', limit: Math.round((opts.samples ?? 2048) / 0.9), seed: 1 });

  async function measure(probe: TrainConfigInput['probe']) {
    const trainer = new Trainer({ tf, graph, data, config: trainConfigSchema.parse({ epochs: 1, batchSize: 64, lr: 1e-3, probe }) });
    const done = await trainer.run();
    const { runs, ms } = trainer.probeStats;
    trainer.dispose();
    return { samplesPerSec: Math.round(done.samplesPerSec), probeRuns: runs, probeMsPerRun: runs ? +(ms / runs).toFixed(2) : 0, valAccuracy: +done.metrics.val_accuracy.toFixed(4) };
  }

  await measure({ enabled: false }); // warm-up: kernels, JIT
  const off = await measure({ enabled: false });
  const defaultRate = await measure({});
  const everyBatch = await measure({ everyBatches: 1, minIntervalMs: 0 });
  const off2 = await measure({ enabled: false });
  const base = (off.samplesPerSec + off2.samplesPerSec) / 2;
  return {
    backend,
    skipped,
    trainSamples: data.train.size,
    batchSize: 64,
    probesOff: { ...off, samplesPerSecRepeat: off2.samplesPerSec },
    probesDefaultRate: { ...defaultRate, slowdown: +(1 - defaultRate.samplesPerSec / base).toFixed(3) },
    probesEveryBatch: { ...everyBatch, slowdown: +(1 - everyBatch.samplesPerSec / base).toFixed(3) },
    note: 'samplesPerSec counts the batch loop (steps, probes), not validation. slowdown is relative to the mean of the two probes-off runs; compare it with their spread.',
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const result = await benchTrain({ backend: arg('backend', 'auto') as BackendOption, samples: Number(arg('samples', '2048')) });
  console.log(JSON.stringify({ bench: 'train', ...result }, null, 2));
}
