// What every exporter needs before it writes a line: the analysed graph, a
// readable unique name per node, the variable for every output port, and each
// node's emitted code for the target. Composites are inlined: their inner
// nodes are planned like any other, named after their instance (and copy).
import type { CodeHelper, EmittedCode, ExportTarget, LossName } from '../blocks/contract.js';
import { analyzeGraph, type GraphAnalysis, type NodeInfo } from '../shapes/analyze.js';
import { inlineGraph } from '../shapes/inline.js';
import { hasErrors, type GraphFile } from '../graph/types.js';
import { outputLoss } from '../shapes/output-loss.js';
import { NameTable } from './names.js';
import { EXPORT_TARGETS } from '../blocks/emit/targets.js';

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

/** The graph's analysis; throws an ExportError naming the first error where it has any. */
export function analyzeForExport(graph: GraphFile): GraphAnalysis {
  const analysis = analyzeGraph(graph);
  if (hasErrors(analysis.diagnostics)) {
    const first = analysis.diagnostics.find((d) => d.severity === 'error')!;
    throw new ExportError(
      `the graph has errors; fix them before exporting (first: ${first.nodeId ? `node "${first.nodeId}": ` : ''}${first.message})`,
      first.nodeId,
    );
  }
  return analysis;
}

export function planExport(graph: GraphFile, target: ExportTarget, reserved: string[] = []): ExportPlan {
  const analysis = analyzeForExport(graph);
  const names = new NameTable(EXPORT_TARGETS[target].language, reserved);
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
      if (prior && (prior.code !== h.code || prior.source !== h.source)) throw new Error(`two different helpers are named ${h.name}`);
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
