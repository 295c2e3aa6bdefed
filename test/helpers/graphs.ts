// Small graph builders for tests.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GRAPH_FORMAT, parseGraphText } from '../../engine/graph/schema.js';
import type { GraphFile } from '../../engine/graph/types.js';

export const templatesDir = fileURLToPath(new URL('../../../templates/', import.meta.url));

export function templateFiles(): string[] {
  return readdirSync(templatesDir)
    .filter((f) => f.endsWith('.attn.json'))
    .sort();
}

export function loadTemplate(file: string): GraphFile {
  const r = parseGraphText(readFileSync(`${templatesDir}${file}`, 'utf8'));
  if (!r.graph) throw new Error(`${file}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.graph;
}

type NodeSpec = [id: string, type: string, params?: Record<string, unknown>];
type EdgeSpec = [from: string, to: string];

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
