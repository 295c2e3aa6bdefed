// Fine-tuning in the Training form: "Load weights…" (a .safetensors/.pth file
// into a new run that training starts from, with the names matched, missing,
// unexpected and of another shape), the nodes to freeze, learning-rate
// multipliers, a new head, and ImageNet preprocessing for image folders.
import { useMemo, useState } from 'react';
import { Field, TextInput } from './Field.js';
import type { WeightsImport } from '../../../common/host-api/api.js';
import { editor } from '../editor.js';
import { host } from '../host/host.js';
import { freezeList, parseLrMultipliers, setForm, useTrainForm } from './form.js';
import { isFrozen } from '../../../engine/graph/fine-tune-patterns.js';

/** The names of one kind in the report: a count, and the names (the first few shown). */
function NameList({ what, names, testId }: { what: string; names: string[]; testId: string }) {
  if (!names.length) return null;
  const shown = names.slice(0, 8);
  return (
    <div className="weights-names" data-testid={testId} title={names.join('\n')}>
      {names.length} {what}: {shown.join(', ')}
      {names.length > shown.length ? `, … (${names.length - shown.length} more)` : ''}
    </div>
  );
}

function ImportReport({ r }: { r: WeightsImport }) {
  return (
    <div className={`weights-report ${r.ok ? '' : 'bad'}`} data-testid="weights-report">
      {r.ok ? (
        <div data-testid="weights-loaded">
          Loaded {r.loaded.length} arrays ({r.source}) into run {r.runId}
        </div>
      ) : (
        <div className="error">{r.error}</div>
      )}
      <NameList what="missing from the file (initialised as usual)" names={r.missing} testId="weights-missing" />
      <NameList what="in the file, not in the graph" names={r.unexpected} testId="weights-unexpected" />
      <NameList
        what="of another shape"
        names={r.mismatched.map((m) => `${m.name} [${m.file.join('×')}] vs [${m.graph.join('×')}]`)}
        testId="weights-mismatched"
      />
    </div>
  );
}

/**
 * Which nodes (by inlined key) the form's fine-tuning freezes: named by Freeze,
 * or by a learning-rate multiplier of 0. What the inspector and the summary count.
 */
export function useFrozenNodes(): (nodeKey: string) => boolean {
  const freeze = useTrainForm((s) => s.freeze);
  const lrText = useTrainForm((s) => s.lrMultipliers);
  return useMemo(() => {
    let lrMultipliers: Record<string, number> = {};
    try {
      lrMultipliers = parseLrMultipliers(lrText);
    } catch {
      // The field shows its error; until it parses, only Freeze counts.
    }
    const c = { freeze: freezeList(freeze), lrMultipliers };
    return (key: string) => isFrozen(key, c);
  }, [freeze, lrText]);
}

export function FineTuneSection({ locked }: { locked: boolean }) {
  const initWeights = useTrainForm((s) => s.initWeights);
  const lrText = useTrainForm((s) => s.lrMultipliers);
  const newHead = useTrainForm((s) => s.newHead);
  const imagenet = useTrainForm((s) => s.imagenet);
  const [file, setFile] = useState('');
  const [partial, setPartial] = useState(true);
  const [loading, setLoading] = useState(false);
  const [report, setReport] = useState<WeightsImport | null>(null);
  let lrError: string | undefined;
  try {
    parseLrMultipliers(lrText);
  } catch (err) {
    lrError = (err as Error).message;
  }

  const load = async () => {
    if (!host || !file.trim()) return;
    setLoading(true);
    try {
      const r = await host.importWeights({ graph: editor.getState().graph, path: file.trim(), partial });
      setReport(r);
      if (r.ok && r.runId) setForm({ initWeights: r.runId });
    } catch (err) {
      setReport({ ok: false, error: (err as Error).message, loaded: [], missing: [], unexpected: [], mismatched: [] });
    } finally {
      setLoading(false);
    }
  };

  return (
    <>
      <div className="section-title">Fine-tuning</div>
      <div className="tgrid">
        <Field label="Weights file" help=".safetensors, or .pth/.pt (read by a Python with torch): names of our PyTorch export, torchvision's or timm's">
          <input
            value={file}
            placeholder="weights/resnet20.safetensors"
            disabled={locked || loading}
            data-testid="weights-path"
            onChange={(e) => setFile(e.target.value)}
          />
        </Field>
        <Field label="Partial" help="Load what fits (a new head, an inserted block) and initialise the rest">
          <input type="checkbox" checked={partial} disabled={locked} data-testid="weights-partial" onChange={(e) => setPartial(e.target.checked)} />
        </Field>
      </div>
      <div className="button-row">
        <button onClick={() => void load()} disabled={!host || locked || loading || !file.trim()} data-testid="weights-load">
          {loading ? 'Loading…' : 'Load weights…'}
        </button>
        {initWeights && (
          <>
            <span data-testid="weights-run">starts from {initWeights}</span>
            <button onClick={() => setForm({ initWeights: '' })} disabled={locked} data-testid="weights-clear">
              Clear
            </button>
          </>
        )}
      </div>
      {report && <ImportReport r={report} />}
      <div className="tgrid">
        <Field
          label="Freeze"
          help="Node ids or id prefixes, separated by commas: their weights do not train (a composite: all inside it); frozen BatchNorm uses its moving statistics"
        >
          <TextInput k="freeze" placeholder="stem, stage1, stage2" disabled={locked} />
        </Field>
        <Field label="LR multipliers" help="node=factor, separated by commas: that node's learning rate is the rate times the factor (0 freezes)">
          <input
            value={lrText}
            placeholder="stage3=0.1"
            disabled={locked}
            className={lrError ? 'invalid' : undefined}
            aria-invalid={Boolean(lrError)}
            data-testid="train-lrMultipliers"
            onChange={(e) => setForm({ lrMultipliers: e.target.value })}
          />
        </Field>
        <Field label="New head" help="Give the classification head the dataset's class count, freshly initialised; the rest keeps the loaded weights">
          <input type="checkbox" checked={newHead} disabled={locked} data-testid="train-newHead" onChange={(e) => setForm({ newHead: e.target.checked })} />
        </Field>
        <Field label="ImageNet preprocessing" help="Image folders: resize and centre crop (224 of 256), then ImageNet's mean and standard deviation">
          <input type="checkbox" checked={imagenet} disabled={locked} data-testid="train-imagenet" onChange={(e) => setForm({ imagenet: e.target.checked })} />
        </Field>
      </div>
      {lrError && (
        <div className="error" data-testid="train-lrMultipliers-error">
          {lrError}
        </div>
      )}
    </>
  );
}
