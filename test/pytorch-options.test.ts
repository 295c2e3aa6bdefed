// The pytorch backend's settings on their way from the user to train_worker.py's
// spec.json: the CLI's flags, the training process's start command, the
// Training panel's form. Only the run folder is prepared; nothing trains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCommandSchema } from '../engine/worker/protocol.js';
import { PytorchRun } from '../engine/pytorch/run.js';
import { WORKER_SCRIPT } from '../engine/pytorch/prepare.js';
import type { GraphFile } from '../engine/graph/types.js';
import { defaultForm, startRequest } from '../renderer/src/training/form.js';
import { tinyMlp } from './train-fixtures.js';
import { PYTHON, skipWithoutTorch } from './helpers/torch.js';
import { attn } from './helpers/cli.js';

const tmp = (tag: string) => mkdtempSync(path.join(tmpdir(), `attn-pytorch-${tag}-`));
const specOf = (runDir: string) => JSON.parse(readFileSync(path.join(runDir, 'pytorch', 'spec.json'), 'utf8')) as Record<string, unknown>;

test('attn train --no-sync-batch-norm reaches spec.json, and needs --backend pytorch', async (t) => {
  const dir = tmp('cli-sync');
  const graphFile = path.join(dir, 'mlp.attn.json');
  writeFileSync(graphFile, JSON.stringify(tinyMlp()));
  const refused = await attn('train', graphFile, '--dataset', 'mnist', '--no-sync-batch-norm');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /attn train: --no-sync-batch-norm needs --backend pytorch/);

  if (skipWithoutTorch(t, 'preparing a PyTorch run folder')) return;
  // --print-launch prepares the run folder the ranks would train from, and trains nothing.
  const prepare = (out: string, ...flags: string[]) =>
    attn(
      'train',
      graphFile,
      '--dataset',
      'mnist',
      '--limit',
      '200',
      '--backend',
      'pytorch',
      '--device',
      'cpu',
      '--nproc',
      '2',
      '--print-launch',
      '--json',
      '--out',
      out,
      ...flags,
    );
  const off = await prepare(path.join(dir, 'off'), '--no-sync-batch-norm');
  assert.equal(off.code, 0, off.stderr);
  assert.equal(specOf(path.join(dir, 'off')).syncBatchNorm, false);
});

test("the Training panel's sync BatchNorm setting passes the training process's start command into spec.json", async (t) => {
  const graph = tinyMlp();
  const form = { ...defaultForm(), backend: 'pytorch' as const, torchDevice: 'cpu' as const, nproc: 2, limit: 200 };
  assert.equal(form.syncBatchNorm, true, 'on by default, as in the CLI');
  const parse = (f: typeof form) => startCommandSchema.parse({ type: 'start', ...startRequest(f, graph as GraphFile) });
  assert.equal(parse(form).pytorch?.syncBatchNorm, true);
  const off = parse({ ...form, syncBatchNorm: false });
  assert.equal(off.pytorch?.syncBatchNorm, false);
  // One rank has nothing to synchronise: the form leaves the setting out, and the protocol's default stands.
  assert.equal(startRequest({ ...form, nproc: 1, syncBatchNorm: false }, graph).pytorch?.syncBatchNorm, undefined);

  if (skipWithoutTorch(t, 'preparing a PyTorch run folder')) return;
  // What the training process does with a start command (engine/worker/process.ts): PytorchRun.setup(req).
  const dir = tmp('protocol-sync');
  const run = await PytorchRun.setup({ ...off, out: { dir } });
  try {
    assert.equal(specOf(dir).syncBatchNorm, false);
    assert.equal(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')).pytorch?.syncBatchNorm, false);
  } finally {
    run.dispose();
  }
});

// Runs the worker on a spec whose top-level and data fields record being read.
const READ_FIELDS = `
import io, json, os, sys
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import train_worker
read = set()
class Recorded(dict):
    def __init__(self, d, prefix):
        super().__init__(d)
        self.prefix = prefix
    def __getitem__(self, k):
        read.add(self.prefix + k)
        return super().__getitem__(k)
    def get(self, k, default=None):
        read.add(self.prefix + k)
        return super().get(k, default)
spec = json.load(open(sys.argv[2]))
spec = Recorded({**spec, "data": Recorded(spec["data"], "data.")}, "")
out, sys.stdout = sys.stdout, io.StringIO()
train_worker.Run(spec).run()
sys.stdout = out
print(json.dumps(sorted(read)))
`;

test('train_worker.py reads every field prepare.ts writes into spec.json', async (t) => {
  if (skipWithoutTorch(t, 'the PyTorch worker')) return;
  const dir = tmp('spec-fields');
  const run = await PytorchRun.setup({
    graph: tinyMlp(),
    dataset: { name: 'mnist', limit: 120 },
    config: { epochs: 1, batchSize: 50 },
    out: { dir },
    pytorch: { device: 'cpu' },
  });
  run.dispose();
  const specFile = path.join(dir, 'pytorch', 'spec.json');
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as Record<string, unknown>;
  const written = [...Object.keys(spec), ...Object.keys(spec.data as object).map((d) => `data.${d}`)];
  const out = execFileSync(PYTHON, ['-c', READ_FIELDS, WORKER_SCRIPT, specFile], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, RANK: '0', WORLD_SIZE: '1' },
  });
  const read = JSON.parse(out.trim().split('\n').at(-1)!) as string[];
  assert.deepEqual(
    written.filter((k) => !read.includes(k)),
    [],
    'fields written that the worker never reads',
  );
  assert.deepEqual(
    read.filter((k) => !written.includes(k)),
    [],
    'fields the worker asks for that are not written',
  );
});
