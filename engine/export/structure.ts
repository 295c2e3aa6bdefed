// The structure the three exporters (PyTorch, Keras, TypeScript) share: a scope
// (the model, or one copy of a composite) as statements over variables named
// from the nodes' labels, and a composite as a unit (an nn.Module class, a
// Python or TypeScript function) that every composite and copy with the same
// code shares, named from the composite's label once all other names are known.
import type { GraphFile } from '../graph/types.js';
import type { NodeInfo, ScopeAnalysis } from '../shapes/analyze.js';
import { COMPOSITE_INPUT, COMPOSITE_OUTPUT } from '../shapes/composite.js';
import { copyKey } from '../shapes/inline.js';
import { identifier, type NameTable } from './names.js';

/** A node of a scope that writes code: a block, or a composite instance. */
export interface ScopeNode {
  id: string;
  info: NodeInfo;
  /** Node ids from the top-level node down to this one. */
  path: string[];
  /** Its key among the inlined nodes (engine/shapes/inline.ts), e.g. "stage1#2/conv2". */
  key: string;
  label: string;
  /** Its identifier in the scope. */
  name: string;
  /** Variable per connected input port. */
  inputs: Record<string, string>;
  /** Variable per output port. */
  outputs: Record<string, string>;
}

/** Where a scope sits. */
export interface ScopeAt {
  /** The composite this scope is a copy of; undefined at the top level. */
  compositeId?: string;
  /** Node ids from the top level down to the composite node ([] at the top level). */
  path: string[];
  /** The copy's key among the inlined nodes (see copyKeys); undefined at the top level. */
  key?: string;
  /** The variable of each composite input node. */
  bound: Map<string, string>;
}

export interface ScopeVisitor {
  /**
   * Lets the visitor write a node itself, before it is named (the PyTorch
   * export's token selections): its output variables, null for a node that
   * writes nothing, undefined to leave it to node().
   */
  claim?(id: string, label: string, vars: ReadonlyMap<string, Record<string, string>>): Record<string, string> | null | undefined;
  /** Writes a block, or the use of a composite instance (`info.composite` set). */
  node(n: ScopeNode): void;
}

/** The labels of the nodes of the graph (no composite) or of one composite's body. */
function labelsOf(graph: GraphFile, compositeId: string | undefined): Map<string, string> {
  const nodes = compositeId ? ((graph.composites ?? []).find((c) => c.id === compositeId)?.nodes ?? []) : graph.nodes;
  return new Map(nodes.map((n) => [n.id, n.label?.trim() || n.id]));
}

/**
 * Walks one scope in order: names every node from its label in `names`, passes
 * composite ports and bypassed nodes through, and hands the rest to the
 * visitor. Returns the output variables by node id and port.
 */
export function walkScope(graph: GraphFile, scope: ScopeAnalysis, at: ScopeAt, names: NameTable, visitor: ScopeVisitor): Map<string, Record<string, string>> {
  const labels = labelsOf(graph, at.compositeId);
  const vars = new Map<string, Record<string, string>>();
  const source = (n: NodeInfo, port: string): string => {
    const e = scope.edges[n.incoming.get(port)!];
    return vars.get(e.from.node)![e.from.port];
  };
  for (const id of scope.order) {
    const n = scope.nodes.get(id)!;
    const label = labels.get(id) ?? id;
    const claimed = visitor.claim?.(id, label, vars);
    if (claimed !== undefined) {
      if (claimed) vars.set(id, claimed);
      continue;
    }
    if (n.bypass) vars.set(id, { [n.outputs[0].name]: source(n, n.inputs[0].name) });
    else if (n.block.type === COMPOSITE_INPUT) vars.set(id, { out: at.bound.get(id)! });
    else if (n.block.type === COMPOSITE_OUTPUT) vars.set(id, { out: source(n, 'in') });
    else {
      const inputs: Record<string, string> = {};
      for (const port of n.incoming.keys()) inputs[port] = source(n, port);
      const name = names.take(label);
      const outputs: Record<string, string> = {};
      for (const p of n.outputs) outputs[p.name] = n.outputs.length === 1 ? name : names.take(`${name}_${p.name}`);
      vars.set(id, outputs);
      visitor.node({ id, info: n, path: [...at.path, id], key: at.key ? `${at.key}/${id}` : id, label, name, inputs, outputs });
    }
  }
  return vars;
}

/** The key of each copy of the composite instance keyed `key`, in order (as the inlined nodes' keys start). */
export const copyKeys = (key: string, copies: number): string[] => Array.from({ length: copies }, (_, i) => copyKey(key, i + 1, copies > 1));

/** A generated class or function; `ref` stands for its name in the generated text until resolveNames(). */
export interface Unit {
  ref: string;
  /** The label it is named from. */
  label: string;
  /** What decides that two composites share it: its text without its name or documentation. */
  code: string;
}

export type UnitStyle = 'class' | 'python' | 'typescript';

/** The name of a unit from a composite's label (its words before any ":" or "("): PascalCase for a class, else the language's function style. */
function unitName(label: string, style: UnitStyle): string {
  const head = label.split(/[:(]/)[0];
  if (style !== 'class') return identifier(head, style);
  return (
    identifier(head, 'python')
      .split('_')
      .filter(Boolean)
      .map((w) => w[0].toUpperCase() + w.slice(1))
      .join('')
      .replace(/^(\d)/, 'N$1') || 'Block'
  );
}

const BLOCK_SUFFIX: Record<UnitStyle, string> = { class: 'Block', python: '_block', typescript: 'Block' };

/** The units of one file, in dependency order (a unit after those it uses). */
export class Units<U extends Unit> {
  readonly list: U[] = [];

  /** The unit with this code: an earlier one, or `unit` made new. */
  share(unit: Omit<U, 'ref'>): U {
    const same = this.list.find((u) => u.code === unit.code);
    if (same) return same;
    const made = { ...unit, ref: `\u0000${this.list.length}\u0000` } as U;
    this.list.push(made);
    return made;
  }

  /** Names every unit from its label, clear of `taken`; returns their names and the function that writes them into a text. */
  resolveNames(style: UnitStyle, taken: Set<string>): { names: string[]; named: (text: string) => string } {
    const names = this.list.map((u) => {
      const base = unitName(u.label, style);
      let name = taken.has(base) ? base + BLOCK_SUFFIX[style] : base;
      for (let k = 2; taken.has(name); k++) name = `${base}${BLOCK_SUFFIX[style]}${k}`;
      taken.add(name);
      return name;
    });
    return { names, named: (text) => text.replace(/\u0000(\d+)\u0000/g, (_, k: string) => names[Number(k)]) };
  }
}
