// A small graph builder for writing templates as code: nodes are laid out left to
// right in the order they are added (a row per branch), edges are "node.port" pairs,
// and composites are built with the same builder.
import { COMPOSITE_INPUT, COMPOSITE_OUTPUT, compositeType } from '../../engine/shapes/composite.js';
import { GRAPH_FORMAT, GRAPH_VERSION } from '../../engine/graph/schema.js';
import type { CompositeDef, GraphEdge, GraphFile, GraphNode } from '../../engine/graph/types.js';

export type Params = Record<string, unknown>;
/** A node's output, "node.port". */
export type Out = string;

const COLUMN = 240;
const ROW = 160;

export interface Place {
  /** The row (0 = the main path; branches below it). */
  row?: number;
  label?: string;
}

export class Builder {
  readonly nodes: GraphNode[] = [];
  readonly edges: GraphEdge[] = [];
  private column = 0;

  /** Adds a node in the next column and wires `inputs` (port name → output) into it; returns its id. */
  node(id: string, type: string, params: Params = {}, inputs: Record<string, Out> = {}, place: Place = {}): string {
    if (this.nodes.some((n) => n.id === id)) throw new Error(`duplicate node id "${id}"`);
    this.nodes.push({
      id,
      type,
      ...(place.label ? { label: place.label } : {}),
      params,
      position: { x: this.column++ * COLUMN, y: (place.row ?? 0) * ROW },
    });
    for (const [port, from] of Object.entries(inputs)) this.wire(from, `${id}.${port}`);
    return id;
  }

  /** A one-input, one-output node fed by `from`; returns its "id.out". */
  then(from: Out, id: string, type: string, params: Params = {}, place: Place = {}): Out {
    return `${this.node(id, type, params, { in: from }, place)}.out`;
  }

  /** Nodes in a chain from `from`; returns the last one's output. */
  chain(from: Out, ...steps: [id: string, type: string, params?: Params][]): Out {
    return steps.reduce((x, [id, type, params]) => this.then(x, id, type, params), from);
  }

  /** Uses a composite (with `repeat` copies in a chain when more than 1). */
  use(from: Out, id: string, composite: CompositeDef, repeat = 1, place: Place = {}): Out {
    return this.then(from, id, compositeType(composite.id), repeat > 1 ? { repeat } : {}, place);
  }

  wire(from: Out, to: string): void {
    const end = (s: string) => {
      const dot = s.indexOf('.');
      if (dot < 1) throw new Error(`"${s}" is not "node.port"`);
      return { node: s.slice(0, dot), port: s.slice(dot + 1) };
    };
    this.edges.push({ from: end(from), to: end(to) });
  }
}

/** A composite with named input and output ports; `body` gets the inputs' outputs and returns what each output port gives. */
export function compositeOf(
  id: string,
  label: string,
  doc: string,
  ports: { inputs: string[]; outputs: string[] },
  body: (b: Builder, inputs: Record<string, Out>) => Record<string, Out>,
): CompositeDef {
  const b = new Builder();
  const inputs = Object.fromEntries(ports.inputs.map((name, i) => [name, `${b.node(name, COMPOSITE_INPUT, { name }, {}, { row: i })}.out`]));
  const outs = body(b, inputs);
  ports.outputs.forEach((name, i) => b.node(name, COMPOSITE_OUTPUT, { name }, { in: outs[name] }, { row: i }));
  return { id, label, doc, nodes: b.nodes, edges: b.edges };
}

/** A composite with one input "in" and one output "out". */
export function composite(id: string, label: string, doc: string, body: (b: Builder, x: Out) => Out): CompositeDef {
  return compositeOf(id, label, doc, { inputs: ['in'], outputs: ['out'] }, (b, i) => ({ out: body(b, i.in) }));
}

export interface Training {
  optimizer: 'sgd' | 'adam' | 'adamw';
  learningRate: number;
  batchSize: number;
  epochs: number;
  [more: string]: unknown;
}

export interface TemplateSpec {
  /** File name without `.attn.json`. */
  file: string;
  name: string;
  description: string;
  paper: string;
  dataset: Record<string, unknown> & { name: string };
  training: Training;
  /** The trainable parameter count of the reference implementation, when there is one. */
  reference?: { trainableParams: number; implementation: string };
  composites?: CompositeDef[];
  build: (b: Builder) => void;
  seed?: number;
}

export function template(spec: TemplateSpec): GraphFile & { file: string } {
  const b = new Builder();
  spec.build(b);
  return {
    file: spec.file,
    format: GRAPH_FORMAT,
    version: GRAPH_VERSION,
    name: spec.name,
    description: spec.description,
    paper: spec.paper,
    ...(spec.reference ? { reference: spec.reference } : {}),
    seed: spec.seed ?? 42,
    ...(spec.composites?.length ? { composites: spec.composites } : {}),
    nodes: b.nodes,
    edges: b.edges,
    dataset: spec.dataset,
    training: spec.training,
  };
}
