// Attention probes: a model sharing the trained layers whose outputs are the
// flagged attention tensors, run on a fixed set of samples at a bounded rate;
// and, when the training process plugs one in, an explanation of the first
// probe sample at the same steps; and for a captioning model, the probe samples'
// greedy captions with each word's map (engine/train/caption-record.ts).
import type * as tfjs from '@tensorflow/tfjs';
import type { Tensor, TF } from '../blocks/contract.js';
import type { AttentionOutput, CompiledGraph } from '../compile/compile.js';
import type { GraphFile } from '../graph/types.js';
import type { AttentionMap, ProbeExplanation } from '../schemas/train-events.js';
import type { CaptionRecord } from '../schemas/caption.js';
import { captionOutput, readCaption } from './caption-record.js';

/** Explains one probe sample [1, ...] with the model's current weights. */
export interface ProbeExplainer {
  explain(sample: Tensor): Promise<Omit<ProbeExplanation, 'sample'> | undefined>;
}

/**
 * Makes the explainer for a compiled model, or undefined when the model has
 * nothing to explain with. engine/explain provides it: it sits above train,
 * so the training process hands it in (engine/worker/process.ts).
 */
export type ProbeExplainerFactory = (tf: TF, graph: GraphFile, compiled: CompiledGraph) => ProbeExplainer | undefined;

/**
 * Averages neighbouring entries along the largest non-batch axis (halving it)
 * until at most `max` values remain; the batch axis is cut last.
 */
export function downsample(data: Float32Array, shape: readonly number[], max: number): { data: Float32Array; shape: number[] } {
  let d = data;
  let s = [...shape];
  while (d.length > max) {
    let axis = 1;
    for (let a = 2; a < s.length; a++) if (s[a] > s[axis]) axis = a;
    if (s.length < 2 || s[axis] <= 1) {
      // Only samples left to cut.
      const per = d.length / s[0];
      const keep = Math.max(1, Math.floor(max / per));
      return { data: d.slice(0, keep * per), shape: [keep, ...s.slice(1)] };
    }
    const outer = s.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = s.slice(axis + 1).reduce((a, b) => a * b, 1);
    const n = s[axis];
    const m = Math.ceil(n / 2);
    const out = new Float32Array(outer * m * inner);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < m; j++) {
        const a = 2 * j,
          b = Math.min(2 * j + 1, n - 1);
        const cnt = b === a ? 1 : 2;
        for (let i = 0; i < inner; i++) out[(o * m + j) * inner + i] = (d[(o * n + a) * inner + i] + (b === a ? 0 : d[(o * n + b) * inner + i])) / cnt;
      }
    d = out;
    s = [...s.slice(0, axis), m, ...s.slice(axis + 1)];
  }
  return { data: d, shape: s };
}

export interface ProbeOptions {
  everyBatches: number;
  minIntervalMs: number;
  maxElements: number;
}

/** What a captioning model's probes need to write words: the data's vocabulary and the probe samples' true captions. */
export interface ProbeCaptioning {
  classNames: readonly string[];
  labels?: Int32Array;
}

export class AttentionProbe {
  private readonly model: tfjs.LayersModel | null;
  /** The caption decoder's attention, when the model has one and the probes write captions; its words are the model's last output. */
  private readonly caption: AttentionOutput | undefined;
  private readonly explained: Tensor | null;
  private lastStep = -Infinity;
  private lastTime = -Infinity;
  /** Time spent probing, for the throughput report; `explainMs` of it explaining. */
  totalMs = 0;
  explainMs = 0;
  runs = 0;

  constructor(
    tf: TF,
    trained: tfjs.LayersModel,
    private readonly outputs: readonly AttentionOutput[],
    /** The probe inputs; the probe owns and disposes them. */
    private readonly samples: Tensor,
    private readonly opts: ProbeOptions,
    /** Explains the first probe sample at each probe. */
    private readonly explainer?: ProbeExplainer,
    private readonly captioning?: ProbeCaptioning,
  ) {
    const caption = captioning && captionOutput(outputs);
    this.caption = caption;
    const tensors = [...outputs.map((a) => a.tensor), ...(caption ? [caption.words] : [])];
    this.model = outputs.length ? tf.model({ inputs: trained.inputs, outputs: tensors }) : null;
    this.explained = explainer && samples.shape[0]! > 0 ? tf.slice(samples, 0, 1) : null;
  }

  get active(): boolean {
    return this.model !== null || this.explained !== null;
  }

  /** Whether enough batches and time have passed since the last probe. */
  due(step: number, now = performance.now()): boolean {
    return this.active && step - this.lastStep >= this.opts.everyBatches && now - this.lastTime >= this.opts.minIntervalMs;
  }

  async run(step: number): Promise<{ maps: AttentionMap[]; explanation?: ProbeExplanation; caption?: CaptionRecord; ms: number }> {
    if (!this.active) return { maps: [], ms: 0 };
    const t0 = performance.now();
    const { maps, caption } = await this.attentionMaps();
    const explained = this.explained && (await this.explainer!.explain(this.explained));
    const explanation = explained ? { ...explained, sample: 0 } : undefined;
    const ms = performance.now() - t0;
    this.lastStep = step;
    this.lastTime = performance.now();
    this.totalMs += ms;
    this.explainMs += explanation?.ms ?? 0;
    this.runs++;
    return { maps, ...(explanation && { explanation }), ...(caption && { caption }), ms };
  }

  private async attentionMaps(): Promise<{ maps: AttentionMap[]; caption?: CaptionRecord }> {
    if (!this.model) return { maps: [] };
    const out = this.model.predict(this.samples) as Tensor | Tensor[];
    const list = Array.isArray(out) ? out : [out];
    const maps: AttentionMap[] = [];
    for (const [i, a] of this.outputs.entries()) {
      const full = (await list[i].data()) as Float32Array<ArrayBuffer>;
      const { data, shape } = downsample(full, list[i].shape, this.opts.maxElements);
      maps.push({
        nodeId: a.nodeId,
        port: a.port,
        kind: a.kind,
        axes: a.axes,
        shape,
        fullShape: list[i].shape,
        data: data === full ? full.slice() : Float32Array.from(data),
      });
    }
    const at = this.caption && this.outputs.indexOf(this.caption);
    const caption =
      at !== undefined
        ? await readCaption(this.caption!, list[this.outputs.length], list[at], this.captioning!.classNames, this.captioning!.labels)
        : undefined;
    for (const t of list) t.dispose();
    return { maps, ...(caption && { caption }) };
  }

  dispose(): void {
    this.samples.dispose();
    this.explained?.dispose();
  }
}
