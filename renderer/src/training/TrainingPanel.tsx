// The training panel: dataset and hyperparameters on the left; on the right the
// run's controls, progress, live charts per batch and per epoch, validation
// metrics and the log.
import { useEffect, useMemo, useRef, useState } from 'react';
import { adapterLabel, type DatasetInfo, type DatasetPreview, type PytorchInfo } from '../../../common/host-api/api.js';
import { editor, useEditor } from '../editor.js';
import { host } from '../host/host.js';
import { Chart } from './Chart.js';
import { Field, TextInput } from './Field.js';
import { FineTuneSection } from './FineTuneSection.js';
import {
  BACKENDS,
  datasetRequest,
  isSynthetic,
  DIGIT_CAPTIONS,
  numberRange,
  numberValid,
  OPTIMIZERS,
  outputsOf,
  parseLrMultipliers,
  SCHEDULES,
  TORCH_DEVICES,
  setForm,
  startRequest,
  trainForm,
  useTrainForm,
  type NumberKey,
  type TrainForm,
} from './form.js';
import { isLive, pauseRun, resumeRun, startRun, stopRun, useSession } from './session.js';
import { SweepForm } from './SweepForm.js';
import { torchrunCommand } from '../../../engine/schemas/torchrun.js';

const OPTIMIZER_LABEL: Record<TrainForm['optimizer'], string> = { adam: 'Adam', adamw: 'AdamW', sgd: 'SGD' };
const SCHEDULE_LABEL: Record<TrainForm['schedule'], string> = { constant: 'constant', step: 'step decay', cosine: 'cosine' };

/** A numeric field; its range and step are its schema's (form.ts). */
function NumberInput({ k, step, disabled }: { k: NumberKey; step?: number; disabled?: boolean }) {
  const value = useTrainForm((s) => s[k]);
  const [text, setText] = useState(String(value));
  useEffect(() => setText(String(value)), [value]);
  const range = numberRange(k);
  const n = Number(text);
  const bad = text.trim() === '' || !Number.isFinite(n) || !numberValid(k, n);
  return (
    <input
      type="number"
      value={text}
      min={range.min}
      max={range.max}
      step={step ?? range.step}
      disabled={disabled}
      aria-invalid={bad}
      data-testid={`train-${k}`}
      onChange={(e) => {
        setText(e.target.value);
        const v = Number(e.target.value);
        if (e.target.value.trim() !== '' && Number.isFinite(v) && numberValid(k, v)) setForm({ [k]: v });
      }}
    />
  );
}

function SelectInput<K extends keyof TrainForm>({ k, options, disabled }: { k: K; options: readonly (string | [string, string])[]; disabled?: boolean }) {
  const value = useTrainForm((s) => s[k]) as string;
  return (
    <select value={value} disabled={disabled} data-testid={`train-${k}`} onChange={(e) => setForm({ [k]: e.target.value } as Partial<TrainForm>)}>
      {options.map((o) => {
        const [v, l] = Array.isArray(o) ? o : [o, o];
        return (
          <option key={v} value={v}>
            {l}
          </option>
        );
      })}
    </select>
  );
}

/** A labelled numeric field. */
function NumberField({ label, help, ...input }: { label: string; help?: string } & Parameters<typeof NumberInput>[0]) {
  return (
    <Field label={label} help={help}>
      <NumberInput {...input} />
    </Field>
  );
}

/** The form's on/off settings. */
type SwitchKey = { [K in keyof TrainForm]: TrainForm[K] extends boolean ? K : never }[keyof TrainForm];

/** A labelled on/off setting. */
function CheckField({ label, help, k, disabled }: { label: string; help?: string; k: SwitchKey; disabled?: boolean }) {
  const checked = useTrainForm((s) => s[k]) as boolean;
  return (
    <Field label={label} help={help}>
      <input
        type="checkbox"
        checked={checked}
        disabled={disabled}
        data-testid={`train-${k}`}
        onChange={(e) => setForm({ [k]: e.target.checked } as Partial<TrainForm>)}
      />
    </Field>
  );
}

/** A labelled choice. */
function SelectField<K extends keyof TrainForm>({ label, help, ...input }: { label: string; help?: string } & Parameters<typeof SelectInput<K>>[0]) {
  return (
    <Field label={label} help={help}>
      <SelectInput {...input} />
    </Field>
  );
}

function PreviewView({ p }: { p: DatasetPreview }) {
  if (!p.ok)
    return (
      <div className="preview preview--error" data-testid="dataset-preview-error">
        <b>Cannot use {p.name}:</b> {p.error}
      </div>
    );
  const image = p.inputShape.length === 3;
  return (
    <div className="preview" data-testid="dataset-preview">
      <div>
        {p.trainSamples} training + {p.validationSamples} validation samples · input [{p.inputShape.join('×')}] {p.inputDtype} · {p.classNames.length} classes
        {p.normalized ? ' · standardised' : ''}
      </div>
      {image && (
        <div className="preview__thumbs">
          {p.samples.map((s, i) => (
            <Thumb key={i} data={s.x} shape={p.inputShape} caption={p.classNames[s.label[0]] ?? String(s.label[0])} />
          ))}
        </div>
      )}
      {!image && (
        <div className="preview__rows mono">
          {p.samples.slice(0, 4).map((s, i) => (
            <div key={i}>
              [{Array.from(s.x.slice(0, 12), (v) => (Number.isInteger(v) ? v : v.toFixed(2))).join(' ')}
              {s.x.length > 12 ? ' …' : ''}] → {s.label.slice(0, 12).join(' ')}
            </div>
          ))}
        </div>
      )}
      {p.classCounts.length > 0 && p.classCounts.length <= 40 && (
        <div className="preview__counts">
          {p.classCounts.map((c, i) => (
            <span key={i} title={`${p.classNames[i]}: ${c}`} style={{ height: `${Math.max(2, (c / Math.max(...p.classCounts)) * 24)}px` }} />
          ))}
        </div>
      )}
    </div>
  );
}

function Thumb({ data, shape, caption }: { data: Float32Array | Int32Array; shape: number[]; caption: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const [h, w, c] = shape;
    const el = ref.current!;
    el.width = w;
    el.height = h;
    const ctx = el.getContext('2d')!;
    const img = ctx.createImageData(w, h);
    let lo = Infinity,
      hi = -Infinity;
    for (const v of data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    for (let i = 0; i < h * w; i++) {
      for (let k = 0; k < 3; k++) img.data[i * 4 + k] = ((data[i * c + (c >= 3 ? k : 0)] - lo) / (hi - lo || 1)) * 255;
      img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [data, shape]);
  return (
    <figure>
      <canvas ref={ref} />
      <figcaption>{caption}</figcaption>
    </figure>
  );
}

function DatasetSection({ locked }: { locked: boolean }) {
  const [datasets, setDatasets] = useState<DatasetInfo[]>([]);
  const [preview, setPreview] = useState<DatasetPreview | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const dataset = useTrainForm((s) => s.dataset);
  useEffect(() => {
    void host?.listDatasets().then(setDatasets, () => undefined);
  }, []);
  useEffect(() => setPreview(null), [dataset]);
  const synthetic = isSynthetic(dataset);
  const doPreview = async () => {
    if (!host) return;
    setPreviewing(true);
    try {
      setPreview(await host.previewDataset({ dataset: datasetRequest(trainForm.getState()), graph: editor.getState().graph }));
    } catch (err) {
      setPreview({ ok: false, name: trainForm.getState().dataset, error: (err as Error).message });
    } finally {
      setPreviewing(false);
    }
  };
  const options: [string, string][] = [...datasets.map((d) => [d.id, d.name] as [string, string]), ['import', 'Import: image folder or CSV…']];
  const doc = datasets.find((d) => d.id === dataset)?.description;
  return (
    <>
      <div className="section-title">Dataset</div>
      <Field label="Dataset">
        <SelectInput
          k="dataset"
          options={
            options.length > 1
              ? options
              : [
                  ['mnist', 'MNIST'],
                  ['import', 'Import…'],
                ]
          }
          disabled={locked}
        />
      </Field>
      {doc && <div className="field__help">{doc}</div>}
      {dataset === 'import' && (
        <>
          <Field label="Path" help="A folder with one sub-folder of PNG/JPEG images per class, or a .csv file (in the workspace, in browser mode)">
            <TextInput k="importPath" placeholder="data/my-images or data/table.csv" disabled={locked} />
          </Field>
          <Field label="CSV label column" help="Default: the last column">
            <TextInput k="csvLabel" placeholder="(last column)" disabled={locked} />
          </Field>
        </>
      )}
      {synthetic ? (
        <div className="tgrid">
          <NumberField label="Length" help="Sequence length (0: the graph's input length)" k="seqLength" disabled={locked} />
          <NumberField label="Vocab" help="Number of tokens (0: the graph's input vocabulary)" k="vocab" disabled={locked} />
          <NumberField label="Sequences" k="size" disabled={locked} />
        </div>
      ) : (
        <div className="tgrid">
          <NumberField label="Sample limit" help="Use at most this many samples (0: all)" k="limit" disabled={locked} />
          <NumberField label="Validation" k="validationSplit" step={0.05} disabled={locked} />
          {dataset === DIGIT_CAPTIONS && (
            <CheckField
              label="Fresh canvases"
              help="New training canvases every epoch: the training digits placed afresh (validation stays as it is)"
              k="freshEachEpoch"
              disabled={locked}
            />
          )}
        </div>
      )}
      <div className="button-row">
        <button onClick={() => void doPreview()} disabled={!host || previewing} data-testid="dataset-preview-button">
          {previewing ? 'Loading…' : 'Preview'}
        </button>
      </div>
      {preview && <PreviewView p={preview} />}
    </>
  );
}

function HyperSection({ locked }: { locked: boolean }) {
  const schedule = useTrainForm((s) => s.schedule);
  const optimizer = useTrainForm((s) => s.optimizer);
  const graph = useEditor((s) => s.graph);
  const outputs = useMemo(() => outputsOf(graph), [graph]);
  const weights = useTrainForm((s) => s.lossWeights);
  return (
    <>
      <div className="section-title">Optimisation</div>
      <div className="tgrid">
        <SelectField label="Optimizer" k="optimizer" options={OPTIMIZERS.map((o) => [o, OPTIMIZER_LABEL[o]])} disabled={locked} />
        <NumberField label="Learning rate" k="lr" disabled={locked} />
        {optimizer === 'sgd' && <NumberField label="Momentum" k="momentum" disabled={locked} />}
        <NumberField label="Weight decay" help="Decoupled for AdamW, L2 for SGD and Adam" k="weightDecay" disabled={locked} />
        <SelectField label="Schedule" k="schedule" options={SCHEDULES.map((s) => [s, SCHEDULE_LABEL[s]])} disabled={locked} />
        <NumberField label="Warm-up steps" k="warmupSteps" disabled={locked} />
        {schedule === 'step' && (
          <>
            <NumberField label="Every (epochs)" k="stepEpochs" disabled={locked} />
            <NumberField label="Gamma" k="gamma" disabled={locked} />
          </>
        )}
        {schedule === 'cosine' && <NumberField label="Final rate" k="minLr" disabled={locked} />}
        <NumberField label="Batch size" k="batchSize" disabled={locked} />
        <NumberField label="Epochs" k="epochs" disabled={locked} />
        <NumberField label="Seed" k="seed" disabled={locked} />
      </div>
      {outputs.length > 0 && (
        <>
          <div className="section-title">Loss weights</div>
          <div className="tgrid">
            {outputs.map((o) => (
              <Field key={o.id} label={o.id}>
                <input
                  type="number"
                  min={0}
                  step="any"
                  disabled={locked}
                  value={weights[o.id] ?? o.weight}
                  data-testid={`train-loss-weight-${o.id}`}
                  onChange={(e) => {
                    const v = Number(e.target.value);
                    if (Number.isFinite(v) && v >= 0) setForm({ lossWeights: { ...trainForm.getState().lossWeights, [o.id]: v } });
                  }}
                />
              </Field>
            ))}
          </div>
        </>
      )}
      <FineTuneSection locked={locked} />
      <div className="section-title">Attention probes</div>
      <div className="tgrid">
        <NumberField label="Samples" help="Fixed validation samples whose maps are recorded (0: no probes)" k="probeSamples" disabled={locked} />
        <NumberField label="Every (batches)" k="probeEvery" disabled={locked} />
        <NumberField label="Min interval (ms)" k="probeIntervalMs" step={50} disabled={locked} />
      </div>
      <div className="section-title">Backend</div>
      <BackendSection locked={locked} />
    </>
  );
}

/**
 * The backend: tfjs ones always; pytorch once the host finds a Python with torch
 * (which interpreter, torch version and devices are shown, or why none was found),
 * with its interpreter, device and ranks.
 */
function BackendSection({ locked }: { locked: boolean }) {
  const backend = useTrainForm((s) => s.backend);
  const pythonPath = useTrainForm((s) => s.pythonPath);
  const nproc = useTrainForm((s) => s.nproc);
  const [torch, setTorch] = useState<PytorchInfo | null>(null);
  const [asked, setAsked] = useState(pythonPath);
  useEffect(() => {
    let live = true;
    setTorch(null);
    void host?.findPytorch(asked.trim() ? { python: asked.trim() } : {}).then(
      (r) => live && setTorch(r),
      (err: Error) => live && setTorch({ found: false, reason: err.message }),
    );
    return () => void (live = false);
  }, [asked]);
  const options = BACKENDS.filter((b) => b !== 'pytorch' || torch?.found || backend === 'pytorch');
  return (
    <>
      <SelectField
        label="Backend"
        help="auto: the fastest tfjs backend that loads here; pytorch: your Python's torch (chosen, never automatic)"
        k="backend"
        options={options}
        disabled={locked}
      />
      <div className="backend-line" data-testid="train-pytorch-info">
        {torch === null ? (
          'Looking for a Python with PyTorch…'
        ) : torch.found ? (
          <>
            PyTorch <b>{torch.torch}</b> at {torch.python} (Python {torch.pythonVersion}) · {torch.devices.join(', ')}
          </>
        ) : (
          <>PyTorch unavailable: {torch.reason}</>
        )}
      </div>
      <Field label="Python" help="The interpreter with torch (empty: /usr/bin/python3, then python3 on PATH)">
        <input
          type="text"
          value={pythonPath}
          placeholder="/usr/bin/python3"
          disabled={locked}
          data-testid="train-pythonPath"
          onChange={(e) => setForm({ pythonPath: e.target.value })}
          onBlur={() => setAsked(trainForm.getState().pythonPath)}
          onKeyDown={(e) => e.key === 'Enter' && setAsked(trainForm.getState().pythonPath)}
        />
      </Field>
      {backend === 'pytorch' && (
        <div className="tgrid">
          <SelectField label="Device" help="auto: CUDA, then MPS, then CPU" k="torchDevice" options={TORCH_DEVICES} disabled={locked} />
          <NumberField
            label="Ranks"
            help="Processes on this machine (DDP: gloo on CPU, NCCL on CUDA); multi-node: attn train --print-launch"
            k="nproc"
            disabled={locked}
          />
          {nproc > 1 && (
            <CheckField
              label="Sync BatchNorm"
              help="BatchNorm statistics over the global batch of all ranks, as one rank would see it (off: each rank's own shard)"
              k="syncBatchNorm"
              disabled={locked}
            />
          )}
        </div>
      )}
      {backend === 'pytorch' && torch?.found && <TorchrunCommand torch={torch} />}
    </>
  );
}

const RUN_FOLDER = 'RUN_FOLDER';

/**
 * The torchrun command for node 0 of a multi-node job (the one `attn train
 * --print-launch` prints), to copy: it names the folder of the last PyTorch
 * run started here, whose prepared files every node must see at that path.
 */
function TorchrunCommand({ torch }: { torch: Extract<PytorchInfo, { found: true }> }) {
  const nproc = useTrainForm((s) => s.nproc);
  const started = useSession((s) => s.started);
  const [nnodes, setNnodes] = useState(2);
  const [master, setMaster] = useState('127.0.0.1:29500');
  const [copied, setCopied] = useState(false);
  const folder = started?.backend === 'pytorch' && started.runDir ? started.runDir : RUN_FOLDER;
  const torchDir = `${folder}/pytorch`;
  const command = torchrunCommand({
    python: torch.python,
    worker: torch.worker,
    specFile: `${torchDir}/spec.json`,
    logDir: `${torchDir}/logs`,
    nnodes,
    nprocPerNode: nproc,
    nodeRank: 0,
    master,
  });
  const copy = () =>
    void navigator.clipboard.writeText(command).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  return (
    <div className="torchrun" data-testid="train-torchrun">
      <div className="tgrid">
        <Field label="Nodes" help="Machines in a multi-node torchrun job">
          <input
            type="number"
            min={1}
            value={nnodes}
            data-testid="train-torchrun-nnodes"
            onChange={(e) => setNnodes(Math.max(1, Math.round(Number(e.target.value)) || 1))}
          />
        </Field>
        <Field label="Master" help="host:port of node 0, reachable from every node">
          <input type="text" value={master} data-testid="train-torchrun-master" onChange={(e) => setMaster(e.target.value)} />
        </Field>
      </div>
      <textarea readOnly rows={3} value={command} data-testid="train-torchrun-command" onFocus={(e) => e.currentTarget.select()} />
      <div className="backend-line">
        <button onClick={copy} data-testid="train-torchrun-copy">
          {copied ? 'Copied' : 'Copy'}
        </button>{' '}
        On node <i>i</i>, --node_rank=<i>i</i>.{' '}
        {folder === RUN_FOLDER
          ? 'Start a PyTorch run to prepare its folder (or attn train --print-launch).'
          : 'The run folder must be at this path on every node.'}
      </div>
    </div>
  );
}

const fmtTime = (s: number | undefined) => {
  if (s === undefined || !Number.isFinite(s)) return '–';
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
};
const fmt = (v: number | undefined, d = 4) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));

function Controls() {
  const s = {
    state: useSession((x) => x.state),
    source: useSession((x) => x.source),
    busy: useSession((x) => x.busy),
    runId: useSession((x) => x.runId),
  };
  const errors = useEditor((x) => x.diagnostics.errorCount);
  const lrText = useTrainForm((x) => x.lrMultipliers);
  const lrBad = useMemo(() => {
    try {
      parseLrMultipliers(lrText);
      return false;
    } catch {
      return true;
    }
  }, [lrText]);
  const live = isLive(s);
  const start = () => void startRun(startRequest(trainForm.getState(), editor.getState().graph));
  return (
    <div className="run-controls">
      <button
        className="primary"
        onClick={start}
        disabled={!host || live || s.busy || errors > 0 || lrBad}
        title={errors ? 'Fix the graph’s problems first' : lrBad ? 'Fix the learning-rate multipliers first' : 'Train the graph on the canvas'}
        data-testid="train-start"
      >
        Start
      </button>
      {s.state === 'paused' ? (
        <button onClick={() => void resumeRun()} disabled={s.busy} data-testid="train-resume">
          Resume
        </button>
      ) : (
        <button onClick={() => void pauseRun()} disabled={!live || s.state !== 'running' || s.busy} data-testid="train-pause">
          Pause
        </button>
      )}
      <button onClick={() => void stopRun()} disabled={!live || s.state === 'stopping' || s.busy} data-testid="train-stop">
        Stop
      </button>
      <span className={`run-state run-state--${s.state}`} data-testid="train-state">
        {s.state}
      </span>
      {s.runId && (
        <span className="hint mono" data-testid="train-run-id">
          {s.source === 'opened' ? 'viewing ' : ''}
          {s.runId}
        </span>
      )}
    </div>
  );
}

function ProgressView() {
  const p = useSession((x) => x.progress);
  const started = useSession((x) => x.started);
  const done = useSession((x) => x.done);
  const state = useSession((x) => x.state);
  const heldAt = useSession((x) => x.heldAt);
  const total = p ? p.epochs * p.batches : 0;
  // Progress events are throttled: the last batch before a pause may have sent none.
  const step = heldAt !== undefined ? Math.max(heldAt, p?.step ?? 0) : (p?.step ?? done?.steps);
  const frac = done && done.reason === 'completed' ? 1 : p && total ? p.step / total : 0;
  return (
    <div className="progress-block" data-testid="train-progress">
      <div className="progress-bar">
        <div className={`progress-bar__fill${state === 'paused' ? ' paused' : ''}`} style={{ width: `${(frac * 100).toFixed(1)}%` }} />
      </div>
      <div className="progress-stats">
        <span>
          Epoch <b>{p ? `${p.epoch + 1}/${p.epochs}` : '–'}</b>
        </span>
        <span>
          Batch <b>{p ? `${p.batch}/${p.batches}` : '–'}</b>
        </span>
        <span>
          Step <b data-testid="train-step">{step ?? '–'}</b>
          {state === 'paused' && heldAt !== undefined && (
            <span className="hint" data-testid="train-held">
              {' '}
              (held)
            </span>
          )}
        </span>
        <span>
          <b data-testid="train-rate">{p ? p.samplesPerSec.toFixed(0) : done ? done.samplesPerSec.toFixed(0) : '–'}</b> samples/s
        </span>
        <span>
          ETA <b>{state === 'running' ? fmtTime(p?.etaSec) : '–'}</b>
        </span>
        <span>
          loss <b>{fmt(p?.loss)}</b>
        </span>
        <span>
          acc <b>{fmt(p?.accuracy, 3)}</b>
        </span>
        <span>
          lr <b>{p ? p.lr.toExponential(2) : '–'}</b>
        </span>
      </div>
      {started && (
        <div className="backend-line" data-testid="train-backend-info">
          Backend <b>{started.backend}</b>
          {started.adapter && <span data-testid="train-adapter"> — {adapterLabel(started.adapter)}</span>}
          {started.torch && (
            <span className="hint">
              {' '}
              — torch {started.torch} at {started.python}, {started.device}
              {started.ranks && started.ranks > 1 ? `, ${started.ranks} ranks` : ''}
            </span>
          )}
          {started.cpuWorkers && started.cpuWorkers.workers > 1 && (
            <span className="hint" data-testid="train-cpu-workers" title={started.cpuWorkers.reason}>
              {' '}
              — {started.cpuWorkers.workers} data-parallel worker threads
            </span>
          )}
          {started.skipped.length > 0 && <span className="hint"> — skipped: {started.skipped.map((k) => `${k.backend} (${k.reason})`).join('; ')}</span>}
          <span className="hint"> · {started.params.toLocaleString()} parameters</span>
        </div>
      )}
    </div>
  );
}

const SERIES_BATCH = [
  { label: 'loss', color: '#4c9aff' },
  { label: 'accuracy', color: '#3fb27f', scale: 'y2' as const },
];
const SERIES_EPOCH = [
  { label: 'loss', color: '#4c9aff', points: true },
  { label: 'val_loss', color: '#9cc2ff', dash: [5, 4], points: true },
  { label: 'accuracy', color: '#3fb27f', scale: 'y2' as const, points: true },
  { label: 'val_accuracy', color: '#a8f0c4', scale: 'y2' as const, dash: [5, 4], points: true },
];

function Charts() {
  const version = useSession((x) => x.version);
  const batches = useSession((x) => x.batches);
  const epochs = useSession((x) => x.epochs);
  // The series grow in place (session.ts); `version` says when, so it is what the memo must watch.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const batchData = useMemo(() => [batches.step, batches.loss, batches.accuracy] as [number[], number[], (number | null)[]], [batches, version]);
  const epochData = useMemo(() => {
    const rows = [...epochs].sort((a, b) => a.epoch - b.epoch);
    const col = (k: string) => rows.map((r) => r.metrics[k] ?? null);
    return [rows.map((r) => r.epoch), col('loss'), col('val_loss'), col('accuracy'), col('val_accuracy')] as [number[], ...(number | null)[][]];
  }, [epochs]);
  return (
    <div className="charts">
      <Chart
        title={batches.means ? 'Per batch · mean so far in the epoch' : 'Per batch'}
        xLabel="step"
        series={SERIES_BATCH}
        data={batchData}
        version={version}
        testId="chart-batch"
      />
      <Chart title="Per epoch" xLabel="epoch" series={SERIES_EPOCH} data={epochData} version={epochs.length} testId="chart-epoch" integerX />
    </div>
  );
}

function ValidationView() {
  const epochs = useSession((x) => x.epochs);
  const last = [...epochs].sort((a, b) => a.epoch - b.epoch).at(-1);
  if (!last) return <div className="empty">Validation metrics appear at the end of each epoch.</div>;
  const keys = Object.keys(last.metrics).sort((a, b) => Number(a.startsWith('val_')) - Number(b.startsWith('val_')) || a.localeCompare(b));
  return (
    <table className="metrics" data-testid="train-validation">
      <tbody>
        {keys.map((k) => (
          <tr key={k} className={k.startsWith('val_') ? 'val' : ''}>
            <td>{k}</td>
            <td className="num">{fmt(last.metrics[k])}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function LogView() {
  const lines = useSession((x) => x.log);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <div className="log" ref={box} data-testid="train-log">
      {lines.map((l, i) => (
        <div key={i} className={`log__line log__line--${l.level}`}>
          <span className="log__time">{new Date(l.at).toLocaleTimeString()}</span> {l.text}
        </div>
      ))}
    </div>
  );
}

export function TrainingPanel() {
  const live = useSession((s) => isLive(s));
  return (
    <div className="training-panel" data-testid="training-panel">
      <aside className="training-config">
        <DatasetSection locked={live} />
        <HyperSection locked={live} />
        <SweepForm />
      </aside>
      <div className="training-main">
        <Controls />
        <ProgressView />
        <Charts />
        <div className="training-bottom">
          <div className="training-metrics">
            <div className="section-title">Validation</div>
            <ValidationView />
          </div>
          <div className="training-log">
            <div className="section-title">Log</div>
            <LogView />
          </div>
        </div>
      </div>
    </div>
  );
}
