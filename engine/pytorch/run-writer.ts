// What rank 0 of a PyTorch run reports, written into the run folder through
// engine/runs and the trainer's checkpoint writer: a checkpoint becomes a tfjs
// one with the safetensors inside (then its epoch's metrics row), an attention
// event becomes a snapshot (with a captioner's words and their maps). PytorchRun
// does it as the events arrive; finalize.ts does it afterwards for a run a bare
// torchrun trained.
import type * as tfjs from '@tensorflow/tfjs';
import type { TF } from '../blocks/contract.js';
import type { PytorchExport } from '../export/pytorch.js';
import type { RunFolder, SnapshotMap } from '../runs/index.js';
import type { TrainConfig } from '../schemas/train-config.js';
import { probeExplanationSchema, type ProbeExplanation } from '../schemas/train-events.js';
import type { CaptionRecord } from '../schemas/caption.js';
import { captionRecord } from '../train/caption-record.js';
import { downsample } from '../train/probes.js';
import type { CaptionSpec } from './prepare.js';
import { saveTorchCheckpoint, slotNames, type TorchCheckpoint } from './run-files.js';

/** An `attention` line of train_worker.py: maps as base64 float32. */
export interface TorchAttention {
  epoch: number;
  step: number;
  ms: number;
  maps: { nodeId: string; port: string; kind: string; axes?: string; shape: number[]; data: string }[];
  /** The probe sample's explanation (spec.explain), its map as base64 float32. */
  explanation?: Omit<ProbeExplanation, 'data'> & { data: string };
  /** With spec.caption: the decoder's words [B, T, V] for the probe samples as base64 float32, and their labels (B × T). */
  caption?: { shape: number[]; data: string; labels: number[] };
}

const base64Floats = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

export class TorchRunWriter {
  /** The newest checkpoint written, once one is. */
  lastCheckpoint: string | null = null;

  constructor(
    private readonly tf: TF,
    private readonly run: RunFolder,
    private readonly model: tfjs.LayersModel,
    private readonly exported: PytorchExport,
    private readonly config: TrainConfig,
    /** The caption decoder whose words the worker sends (spec.caption). */
    private readonly caption: CaptionSpec | null = null,
  ) {}

  /** The worker's safetensors as a checkpoint of the run, then (at an epoch's end) its metrics row, as the tfjs trainer orders them. */
  async checkpoint(ck: TorchCheckpoint): Promise<string> {
    const target = await saveTorchCheckpoint(this.tf, this.run, this.model, this.exported, slotNames(this.config), ck, {
      keep: this.config.keepCheckpoints,
      extra: { graph: this.model.name },
    });
    this.lastCheckpoint = target;
    const row = ck.state.history.at(-1);
    if (ck.reason === 'epoch' && row) await this.run.appendMetrics(row);
    return target;
  }

  /**
   * The maps, downsampled as the tfjs probes are, the explanation, and a captioner's record (its words with their
   * full-size maps), written as the step's snapshot; returns them for the event.
   */
  async attention(e: TorchAttention): Promise<{ maps: SnapshotMap[]; explanation?: ProbeExplanation; caption?: CaptionRecord }> {
    const max = this.config.probe.maxElements;
    const full = e.maps.map((m) => base64Floats(m.data));
    const maps = e.maps.map((m, i) => {
      const { data, shape } = downsample(full[i], m.shape, max);
      return {
        nodeId: m.nodeId,
        port: m.port,
        kind: m.kind as 'matrix',
        ...(m.axes ? { axes: m.axes } : {}),
        shape,
        fullShape: m.shape,
        data: Float32Array.from(data),
      };
    });
    const explanation = e.explanation && probeExplanationSchema.parse({ ...e.explanation, data: base64Floats(e.explanation.data) });
    if (explanation && explanation.data.length !== explanation.rows * explanation.cols)
      throw new Error(`the worker's explanation at step ${e.step} has ${explanation.data.length} values for a ${explanation.rows} × ${explanation.cols} map`);
    const caption = this.captionOf(e, full);
    await this.run.writeAttention(e.step, maps, explanation, caption);
    return { maps, ...(explanation && { explanation }), ...(caption && { caption }) };
  }

  private captionOf(e: TorchAttention, full: readonly Float32Array[]): CaptionRecord | undefined {
    const at = this.caption;
    if (!at || !e.caption) return undefined;
    const i = e.maps.findIndex((m) => m.nodeId === at.nodeId && m.port === at.port);
    if (i < 0) throw new Error(`the worker's attention at step ${e.step} has no ${at.nodeId}.${at.port} for its caption`);
    const words = { data: base64Floats(e.caption.data), shape: e.caption.shape };
    return captionRecord(at, words, { data: full[i], shape: e.maps[i].shape }, at.classNames, e.caption.labels);
  }
}
