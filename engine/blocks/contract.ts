// The block contract: everything the palette, inspector, shape checker, compiler,
// probes and exporters need to know about a block, declared in one place.
//
// This module must not import tfjs at runtime: the renderer loads it for the
// palette and for live shape checks. Builders receive the `tf` namespace.
import type * as tfjs from '@tensorflow/tfjs';
import type { DropoutSeed } from './seeded-dropout.js';

export type TF = typeof tfjs;
export type Initializer = ReturnType<TF['initializers']['zeros']>;
export type SymbolicTensor = tfjs.SymbolicTensor;
export type Tensor = tfjs.Tensor;

/** A dimension; `null` is unknown (always the case for the batch axis). */
export type Dim = number | null;
/** A tensor shape including the leading batch axis, e.g. [null, 28, 28, 1]. */
export type Shape = Dim[];

/** What an attention output shows, so probes and panels know how to draw it. */
export type AttentionKind = 'spatial' | 'channel' | 'matrix' | 'gate';

export type LossName = 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy' | 'binaryCrossentropy' | 'meanSquaredError' | 'meanAbsoluteError';

export interface PortDef {
  name: string;
  doc: string;
  /** Accepted ranks, counting the batch axis. Omitted: any rank. */
  rank?: number | readonly number[];
  /** An input that may stay unconnected. */
  optional?: boolean;
  /** Integer input (token ids, masks); the Input block declares it on its output. */
  dtype?: 'float32' | 'int32';
  /** Set on outputs that carry attention. */
  attention?: AttentionKind;
  /** Describes the axes of an attention output, e.g. "batch, heads, query, key". */
  axes?: string;
  /**
   * A caption decoder's attention [B, words, rows, cols]: the output port whose per-step class is the word each
   * map belongs to (its probabilities [B, words, vocab]). The probes and Inspect pair them into a caption view.
   */
  wordsFrom?: string;
  /** The loss a model output fed by this port usually takes. */
  loss?: LossName;
}

interface ParamBase {
  doc: string;
  label?: string;
  /** Used only when another (enum) parameter has one of these values, e.g. { kind: ['image'] }: the inspector hides it otherwise. */
  shownWhen?: Readonly<Record<string, readonly string[]>>;
}

/** Whether a parameter applies to a node with these values (its shownWhen holds). */
export const paramApplies = (def: ParamDef, values: Readonly<Record<string, unknown>>): boolean =>
  Object.entries(def.shownWhen ?? {}).every(([k, allowed]) => allowed.includes(String(values[k])));
export interface IntParam extends ParamBase {
  type: 'int';
  default: number;
  min?: number;
  max?: number;
}
export interface FloatParam extends ParamBase {
  type: 'float';
  default: number;
  min?: number;
  max?: number;
}
export interface BoolParam extends ParamBase {
  type: 'bool';
  default: boolean;
}
export interface EnumParam<O extends string = string> extends ParamBase {
  type: 'enum';
  options: readonly O[];
  default: O;
}
export interface IntListParam extends ParamBase {
  type: 'ints';
  default: number[];
  minLength?: number;
  maxLength?: number;
  min?: number;
  max?: number;
}
export interface StringParam extends ParamBase {
  type: 'string';
  default: string;
  maxLength?: number;
}

export type ParamDef = IntParam | FloatParam | BoolParam | EnumParam | IntListParam | StringParam;
export type ParamDefs = Record<string, ParamDef>;

type ValueOf<P extends ParamDef> =
  P extends EnumParam<infer O> ? O : P extends IntParam | FloatParam ? number : P extends BoolParam ? boolean : P extends IntListParam ? number[] : string;

/** The resolved parameter values of a block, defaults filled in. */
export type ParamValues<S extends ParamDefs> = { [K in keyof S]: ValueOf<S[K]> };

/** Thrown by a shape rule; becomes a diagnostic on the node (and port). */
export class ShapeError extends Error {
  constructor(
    message: string,
    readonly port?: string,
  ) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** Where dropout draws its masks (seeded-dropout.ts). */
export type { DropoutSeed, StepClock } from './seeded-dropout.js';

/** Seeded initialisers so that the same graph and seed give the same weights (and the same dropout masks). */
export interface Initializers {
  /** A fresh seed for any initialiser that takes one. */
  seed(): number;
  /** The seed of a dropout site, named by its layer's name (unique in the model); outside the stream of `seed()`, so adding a dropout moves no weight. */
  dropoutSeed(site: string): DropoutSeed;
  glorotUniform(): Initializer;
  heNormal(): Initializer;
  orthogonal(): Initializer;
  uniform(minval: number, maxval: number): Initializer;
  normal(stddev: number): Initializer;
}

export interface BuildContext<S extends ParamDefs> {
  params: ParamValues<S>;
  /** Connected inputs by port name; optional inputs that are unconnected are absent. */
  inputs: Record<string, SymbolicTensor>;
  /** Inferred input shapes by port name. */
  inputShapes: Record<string, Shape>;
  /** Unique, valid layer-name prefix for this node; suffix it for several layers. */
  name: string;
  init: Initializers;
}

export interface ShapeContext<S extends ParamDefs> {
  params: ParamValues<S>;
  /** Shapes of connected inputs by port name. */
  inputs: Record<string, Shape>;
}

export interface BlockExample<S extends ParamDefs> {
  params?: Partial<ParamValues<S>>;
  inputs: Record<string, Shape>;
}

import type { ExportTarget } from './emit/targets.js';
export type { ExportTarget };

/**
 * A named piece of code (a tfjs custom layer, a Keras layer, an nn.Module) emitted
 * once per file: its text, or (PyTorch) the file under engine/export/torch/ whose
 * definition of `name` the exporter copies in.
 */
export type CodeHelper = { name: string; code: string; source?: undefined } | { name: string; source: string; code?: undefined };

/** How one tfjs weight of the node maps onto a PyTorch parameter or buffer of the exported module. */
export interface TorchWeight {
  /** Attribute path below the node's module, e.g. "weight" or "mlp.0.bias". */
  torch: string;
  /** tfjs weight name below the node's layer-name prefix, e.g. "kernel" or "_fc1/bias"; `{layer}` stands for the layer name (a wrapper names its inner layers after it). */
  tfjs: string;
  /** Axis permutation from the tfjs layout to PyTorch's (e.g. [3, 2, 0, 1] for a conv kernel). */
  permute?: number[];
  /** PyTorch's shape, where it differs from the permuted one only by a reshape (a depthwise kernel [in, mult, kh, kw] is [in * mult, 1, kh, kw]). */
  reshape?: number[];
}

export interface EmitContext<S extends ParamDefs> {
  params: ParamValues<S>;
  /** Inferred shapes, in the graph's own layout (NHWC images). */
  inputShapes: Record<string, Shape>;
  outputShapes: Record<string, Shape>;
  /** The variable that holds each connected input. */
  inputs: Record<string, string>;
  /** The variable each output port must be assigned to. */
  outputs: Record<string, string>;
  /** A unique identifier for this node in the target language (PyTorch attribute, variable). */
  name: string;
  /** The node's tfjs layer name in the compiled model; Keras and tfjs code name their layers so (suffix `_x` for several), so trained weights load by name. */
  layer: string;
  /**
   * PyTorch only: output ports the model returns as logits (they train with
   * cross-entropy): leave their final softmax out and list them in
   * EmittedCode.logits. Emitters that cannot simply ignore it.
   */
  logits?: readonly string[];
}

export interface EmittedCode {
  /** PyTorch only: statements for __init__, e.g. `self.conv1 = nn.Conv2d(1, 16, 3, padding=1)`. */
  init?: string[];
  /** Statements that compute the outputs (the forward body, or the functional-API calls). */
  body: string[];
  helpers?: CodeHelper[];
  /** PyTorch only: where the node's trained tfjs weights go. */
  torchWeights?: TorchWeight[];
  /** PyTorch only: the ports of EmitContext.logits emitted without their softmax, with the dim it normalises. */
  logits?: Record<string, number>;
}

export type Emitters<S extends ParamDefs> = { [T in ExportTarget]?: (ctx: EmitContext<S>) => EmittedCode };

export interface BlockDef<S extends ParamDefs = ParamDefs> {
  /** Stable id, `family.name`, e.g. `core.dense` or `attention.cbam`. */
  type: string;
  label: string;
  category: string;
  /** One paragraph: what it computes, when to use it, the paper it follows. */
  doc: string;
  /** The paper, "Authors (year). Title.", where the block comes from one. */
  paper?: string;
  params: S;
  inputs: readonly PortDef[] | ((params: ParamValues<S>) => readonly PortDef[]);
  outputs: readonly PortDef[] | ((params: ParamValues<S>) => readonly PortDef[]);
  /** Output shapes by port name; throws ShapeError on a mismatch. */
  inferShape(ctx: ShapeContext<S>): Record<string, Shape>;
  /** Builds the tfjs layers; returns the symbolic output tensors by port name. */
  build(tf: TF, ctx: BuildContext<S>): Record<string, SymbolicTensor>;
  /**
   * Code for each export target. In PyTorch code rank-4 feature maps are NCHW (the
   * graph's NHWC axes 1, 2, 3 are PyTorch's 2, 3, 1); attention matrices (ports of
   * kind 'matrix', e.g. [B, heads, Tq, Tk]) and tensors of other ranks keep the
   * graph's layout.
   */
  emit?: Emitters<S>;
  /** Typical uses: documentation, and the test that checks the shape rule against tfjs. */
  examples: readonly BlockExample<S>[];
}

/** A block with its parameter types erased, as stored in the registry. */
export type AnyBlock = BlockDef<ParamDefs>;

export function defineBlock<const S extends ParamDefs>(def: BlockDef<S>): AnyBlock {
  return def as unknown as AnyBlock;
}

export function portsOf(block: AnyBlock, params: ParamValues<ParamDefs>, side: 'inputs' | 'outputs'): readonly PortDef[] {
  const ports = block[side];
  return typeof ports === 'function' ? ports(params) : ports;
}
