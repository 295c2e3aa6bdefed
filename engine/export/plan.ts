// What every exporter needs before it writes a line: the analysed graph, a
// readable unique name per node, the variable for every output port, and each
// node's emitted code for the target. Composites are inlined: their inner
// nodes are planned like any other, named after their instance (and copy).
import type { CodeHelper, EmittedCode, ExportTarget, LossName, Shape } from '../blocks/contract.js';
import { analyzeGraph, type NodeInfo } from '../graph/analyze.js';
import { inlineGraph } from '../graph/inline.js';
import { hasErrors, type GraphFile } from '../graph/types.js';
import { outputLoss } from '../compile/compile.js';
import { NameTable, type Language } from './names.js';

export class ExportError extends Error {
  constructor(
    message: string,
    readonly nodeId?: string,
  ) {
    super(message);
    this.name = 'ExportError';
  }
}

export interface PlannedNode {
  /** The node id; inside composites the inlined key, e.g. "stage1#2/conv2". */
  id: string;
  info: NodeInfo;
  /** Identifier in the generated code. */
  name: string;
  /** tfjs layer-name prefix of the compiled model (for weights). */
  layer: string;
  /** Variable per output port. */
  outputs: Record<string, string>;
  /** Variable per connected input port. */
  inputs: Record<string, string>;
  code: EmittedCode;
  /** Output nodes: the loss and weight they train with. */
  loss?: LossName | null;
  lossWeight?: number;
}

export interface ExportPlan {
  graph: GraphFile;
  nodes: PlannedNode[];
  inputs: PlannedNode[];
  outputs: PlannedNode[];
  helpers: CodeHelper[];
}

const LANGUAGE: Record<ExportTarget, Language> = { pytorch: 'python', keras: 'python', tfjs: 'typescript' };

export function planExport(graph: GraphFile, target: ExportTarget, reserved: string[] = []): ExportPlan {
  const analysis = analyzeGraph(graph);
  if (hasErrors(analysis.diagnostics)) {
    const first = analysis.diagnostics.find((d) => d.severity === 'error')!;
    throw new ExportError(`the graph has errors; fix them before exporting (first: ${first.nodeId ? `node "${first.nodeId}": ` : ''}${first.message})`, first.nodeId);
  }
  const names = new NameTable(LANGUAGE[target], reserved);
  const planned = new Map<string, PlannedNode>();
  const helpers = new Map<string, CodeHelper>();
  const nodes: PlannedNode[] = [];

  for (const { key: id, path, info, label, layer, inputs: sources } of inlineGraph(graph, analysis)) {
    const name = names.take(label);
    const outputs: Record<string, string> = {};
    for (const p of info.outputs) outputs[p.name] = info.outputs.length === 1 ? name : names.take(`${name}_${p.name}`);
    const inputs: Record<string, string> = {};
    for (const [port, src] of Object.entries(sources)) inputs[port] = planned.get(src.key)!.outputs[src.port];
    const emit = info.block.emit?.[target];
    // Errors name the node on the canvas: inside composites, the composite node.
    if (!emit) throw new ExportError(`node "${id}": the ${info.block.label} block (${info.block.type}) cannot be exported to ${target} yet`, path[0]);
    let code: EmittedCode;
    try {
      code = emit({ params: info.params, inputShapes: info.inputShapes, outputShapes: info.outputShapes ?? {}, inputs, outputs, name, layer });
    } catch (err) {
      throw new ExportError(`node "${id}" (${info.block.label}): ${(err as Error).message}`, path[0]);
    }
    for (const h of code.helpers ?? []) {
      const prior = helpers.get(h.name);
      if (prior && prior.code !== h.code) throw new Error(`two different helpers are named ${h.name}`);
      helpers.set(h.name, h);
    }
    const node: PlannedNode = { id, info, name, layer, outputs, inputs, code };
    if (info.block.type === 'io.output') {
      node.loss = outputLoss(graph, analysis, id);
      node.lossWeight = node.loss ? (info.params.weight as number) : 0;
    }
    planned.set(id, node);
    nodes.push(node);
  }
  return {
    graph,
    nodes,
    inputs: nodes.filter((n) => n.info.block.type === 'io.input'),
    outputs: nodes.filter((n) => n.info.block.type === 'io.output'),
    helpers: [...helpers.values()],
  };
}

/** The graph's NHWC axis as a PyTorch dim: rank-4 tensors are NCHW there. */
export function torchDim(axis: number, rank: number): number {
  const a = axis < 0 ? rank + axis : axis;
  if (rank !== 4 || a === 0) return a;
  return a === 3 ? 1 : a + 1;
}

/** A shape in PyTorch's layout (batch first, null batch shown as given). */
export function torchShape(shape: Shape): Shape {
  return shape.length === 4 ? [shape[0], shape[3], shape[1], shape[2]] : shape;
}

/** TensorFlow "same" padding on one axis: [before, after], bigger after when odd. */
export function samePadding(size: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export const indent = (lines: string[], by: string) => lines.map((l) => (l ? by + l : l));

export const pyValue = (v: unknown): string =>
  v === true ? 'True' : v === false ? 'False' : v === null || v === undefined ? 'None' : Array.isArray(v) ? `(${v.map(pyValue).join(', ')}${v.length === 1 ? ',' : ''})` : typeof v === 'string' ? JSON.stringify(v) : String(v);
