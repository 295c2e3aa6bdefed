// Small graph builders for tests.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GRAPH_FORMAT, parseGraphText } from '../../engine/graph/schema.js';
import type { GraphFile } from '../../engine/graph/types.js';
import { portsOf, type AnyBlock } from '../../engine/blocks/contract.js';
import { resolveParams } from '../../engine/blocks/params.js';
import { registry } from '../../engine/blocks/registry.js';

export const templatesDir = fileURLToPath(new URL('../../../templates/', import.meta.url));

/**
 * The template files, by default without the ImageNet-size ones (an input of 224×224 or more): compiling and
 * running those takes tens of seconds each on the cpu backend, so test/templates.test.ts covers them on its own.
 */
export function templateFiles({ large = false }: { large?: boolean } = {}): string[] {
  return readdirSync(templatesDir)
    .filter((f) => f.endsWith('.attn.json'))
    .filter((f) => large || !isLargeTemplate(loadTemplate(f)))
    .sort();
}

/** Whether a graph has an image input of at least 224×224 pixels (ImageNet-size). */
export function isLargeTemplate(g: GraphFile): boolean {
  return g.nodes.some((n) => n.type === 'io.input' && n.params.kind === 'image' && Number(n.params.height) * Number(n.params.width) >= 224 * 224);
}

export function loadTemplate(file: string): GraphFile {
  const r = parseGraphText(readFileSync(`${templatesDir}${file}`, 'utf8'));
  if (!r.graph) throw new Error(`${file}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.graph;
}

export type NodeSpec = [id: string, type: string, params?: Record<string, unknown>];
export type EdgeSpec = [from: string, to: string];

/** A graph from nodes and "node.port" edges. */
export function graph(nodes: NodeSpec[], edges: EdgeSpec[], name = 'test'): GraphFile {
  const end = (s: string) => {
    const [node, port] = s.split('.');
    return { node, port };
  };
  return {
    format: GRAPH_FORMAT,
    version: 1,
    name,
    nodes: nodes.map(([id, type, params = {}], i) => ({ id, type, params, position: { x: i * 200, y: 0 } })),
    edges: edges.map(([a, b]) => ({ from: end(a), to: end(b) })),
  };
}

/**
 * Edges that wire nodes one after another: each feeds the next one's `in` port from its `out` port, or from the
 * port a stop names ("head.probs").
 */
export function chain(...stops: string[]): EdgeSpec[] {
  const source = (stop: string) => (stop.includes('.') ? stop : `${stop}.out`);
  return stops.slice(1).map((stop, i) => [source(stops[i]), `${stop.split('.')[0]}.in`]);
}

/** A graph around one block example: an Input per input port, an Output per output port. */
export function exampleGraph(
  block: AnyBlock,
  example: { params?: Record<string, unknown>; inputs: Record<string, (number | null)[]> },
  ports: { inputs: { name: string; dtype?: string }[]; outputs: { name: string }[] },
): GraphFile {
  const nodes: NodeSpec[] = [];
  const edges: EdgeSpec[] = [];
  for (const p of ports.inputs) {
    const s = example.inputs[p.name];
    if (!s) continue;
    const id = `in_${p.name}`;
    const params =
      s.length === 4
        ? { kind: 'image', height: s[1], width: s[2], channels: s[3] }
        : s.length === 3
          ? p.dtype === 'int32'
            ? { kind: 'tokens', sentences: s[1], length: s[2], vocabSize: 2 }
            : { kind: 'sequence', length: s[1], features: s[2] }
          : p.dtype === 'int32'
            ? { kind: 'tokens', length: s[1], vocabSize: 2 }
            : { kind: 'vector', features: s[1] };
    nodes.push([id, 'io.input', params]);
    edges.push([`${id}.out`, `block.${p.name}`]);
  }
  nodes.push(['block', block.type, example.params ?? {}]);
  for (const p of ports.outputs) {
    nodes.push([`out_${p.name}`, 'io.output', { loss: 'none' }]);
    edges.push([`block.${p.name}`, `out_${p.name}.in`]);
  }
  return graph(nodes, edges, `${block.label} example`);
}

export interface BlockExample {
  /** "<block type> example <n>". */
  name: string;
  block: AnyBlock;
  example: AnyBlock['examples'][number];
  /** The example's parameters with the defaults filled in. */
  values: Record<string, unknown>;
  graph: GraphFile;
}

/** Every example of every registered block, each in a graph of its own (exampleGraph). */
export function blockExamples(): BlockExample[] {
  return registry.all().flatMap((block) =>
    block.examples.map((example, k) => {
      const { values } = resolveParams(block, example.params as Record<string, unknown>);
      const ports = { inputs: [...portsOf(block, values, 'inputs')], outputs: [...portsOf(block, values, 'outputs')] };
      return { name: `${block.type} example ${k + 1}`, block, example, values, graph: exampleGraph(block, example as never, ports) };
    }),
  );
}

/** Whether a block stands inside a model (not one of its ends, io.input and io.output). */
export const isInnerBlock = (block: AnyBlock) => block.type !== 'io.input' && block.type !== 'io.output';
