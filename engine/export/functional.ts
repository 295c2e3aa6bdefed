// The model code of the Keras and TypeScript exports (functional APIs), over the
// shared structure pass: a composite becomes a function named from its label that
// builds its layers under the name prefix it is given (its `name` argument), as
// keras.applications' blocks do, and is called once per use; a `repeat` becomes a
// loop over copies named "<name>_r<k>". Layer names stay the compiled tfjs
// model's, so trained weights load by name: each copy's code is emitted with its
// real layer names, and the literals that start with the copy's prefix are then
// rewritten as expressions of `name` (which give the same names), so copies whose
// code agrees share one function.
import type { CodeHelper, LossName } from '../blocks/contract.js';
import type { GraphFile } from '../graph/types.js';
import type { CompositeInfo, GraphAnalysis, ScopeAnalysis } from '../shapes/analyze.js';
import { copyLayer, inlineGraph, layerName, type InlinedNode } from '../shapes/inline.js';
import { outputLoss } from '../shapes/output-loss.js';
import { NameTable, type Language } from './names.js';
import { analyzeForExport, ExportError } from './plan.js';
import { copyKeys, Units, walkScope, type ScopeAt, type ScopeNode, type Unit } from './structure.js';

/** What differs between Python (Keras) and TypeScript (tfjs) in the model code. */
export interface Dialect {
  target: 'keras' | 'tfjs';
  language: Language;
  /** Module-level names of the file. */
  reserved: string[];
  /** A function's text; `doc` is left out where it only decides whether two functions share. */
  define(ref: string, params: string[], results: string[], body: string[], doc?: string): string[];
  /** `a, b = f(x, "name")` / `const [a, b] = f(x, 'name');` */
  call(results: string[], ref: string, args: string[], layer: string): string;
  /** `y = x` then a loop of `count` calls `y = f(y, <layer with the loop variable for LOOP_INDEX>)`. */
  loop(result: string, input: string, index: string, count: number, ref: string, layer: string): string[];
  /** A line with every string literal that is `prefix` or starts with `prefix_` written as an expression of `name`. */
  rewrite(line: string, prefix: string): string;
}

/** Stands for the loop variable inside a layer name given to Dialect.loop. */
export const LOOP_INDEX = '\u0001';

/** The parameter that holds a composite function's layer-name prefix. */
export const NAME_PARAM = 'name';

export interface OutputNode {
  key: string;
  name: string;
  loss: LossName | null;
  lossWeight: number;
}

export interface FunctionalModel {
  analysis: GraphAnalysis;
  inlined: InlinedNode[];
  helpers: CodeHelper[];
  /** One function per distinct composite body, in dependency order. */
  functions: string[][];
  /** The statements that build the model from its inputs. */
  body: string[];
  inputs: string[];
  outputs: OutputNode[];
}

interface FunctionUnit extends Unit {
  text: (name: string) => string[];
}

class FunctionalWriter {
  readonly helpers = new Map<string, CodeHelper>();
  readonly units = new Units<FunctionUnit>();
  /** Every scope's names, which function names keep clear of. */
  readonly tables: NameTable[] = [];
  private readonly layers: Map<string, string>;
  private readonly instanceLayers = new Map<string, string>();

  constructor(
    private readonly graph: GraphFile,
    private readonly dialect: Dialect,
    inlined: InlinedNode[],
  ) {
    this.layers = new Map(inlined.map((n) => [n.key, n.layer]));
    for (const n of inlined) for (const i of n.instances) this.instanceLayers.set(i.key, i.layer);
  }

  names(reserved: string[]): NameTable {
    const table = new NameTable(this.dialect.language, reserved);
    this.tables.push(table);
    return table;
  }

  /** The statements of one scope (the model, or one copy of a composite). */
  scope(scope: ScopeAnalysis, at: ScopeAt, names: NameTable, visit?: (n: ScopeNode) => void) {
    const body: string[] = [];
    // The scope's loops run one after another, so they share one loop variable.
    let index: string | undefined;
    const loopIndex = () => (index ??= names.take('i'));
    const vars = walkScope(this.graph, scope, at, names, {
      node: (n) => {
        visit?.(n);
        body.push(...(n.info.composite ? this.composite(n, names, loopIndex) : this.block(n)));
      },
    });
    return { body, vars };
  }

  private block({ key, info: n, path, name, inputs, outputs }: ScopeNode): string[] {
    const { target } = this.dialect;
    const emit = n.block.emit?.[target];
    if (!emit) throw new ExportError(`node "${key}": the ${n.block.label} block (${n.block.type}) cannot be exported to ${target} yet`, path[0]);
    const layer = this.layers.get(key);
    if (layer === undefined) throw new Error(`node "${key}" has no layer name`);
    let code;
    try {
      code = emit({ params: n.params, inputShapes: n.inputShapes, outputShapes: n.outputShapes ?? {}, inputs, outputs, name, layer });
    } catch (err) {
      throw new ExportError(`node "${key}" (${n.block.label}): ${(err as Error).message}`, path[0]);
    }
    for (const h of code.helpers ?? []) {
      const prior = this.helpers.get(h.name);
      if (prior && (prior.code !== h.code || prior.source !== h.source)) throw new Error(`two different helpers are named ${h.name}`);
      this.helpers.set(h.name, h);
    }
    return code.body;
  }

  /** The use of a composite instance: a call, a loop over its copies, or (where the copies' code differs) one call per copy. */
  private composite({ info: n, path, key, name, inputs, outputs }: ScopeNode, names: NameTable, loopIndex: () => string): string[] {
    const c = n.composite!;
    const copies = n.copies!;
    const repeated = copies.length > 1;
    // An instance without layers inside has no layer name; its functions never read theirs.
    const layer = this.instanceLayers.get(key) ?? layerName(key);
    const keys = copyKeys(key, copies.length);
    const units = copies.map((copy, i) => this.unitOf(c, copy, { compositeId: c.id, path, key: keys[i], bound: new Map() }, copyLayer(layer, i + 1, repeated)));
    const args = c.inputs.map((p) => inputs[p.name]);
    const results = c.outputs.map((p) => outputs[p.name]);
    if (!repeated) return [this.dialect.call(results, units[0].ref, args, layer)];
    if (units.every((u) => u === units[0]))
      return this.dialect.loop(results[0], args[0], loopIndex(), copies.length, units[0].ref, copyLayer(layer, LOOP_INDEX, true));
    let input = args[0];
    return units.map((u, i) => {
      const result = i === units.length - 1 ? results[0] : names.take(`${name}_r${i + 1}`);
      const line = this.dialect.call([result], u.ref, [input], copyLayer(layer, i + 1, true));
      input = result;
      return line;
    });
  }

  private unitOf(c: CompositeInfo, copy: ScopeAnalysis, at: ScopeAt, prefix: string): FunctionUnit {
    const names = this.names([...this.dialect.reserved, NAME_PARAM]);
    const single = c.inputs.length === 1;
    const params = c.inputs.map((p) => (single ? 'x' : names.take(p.name)));
    const bound = new Map(c.inputs.map((p, i) => [p.node, params[i]]));
    const code = this.scope(copy, { ...at, bound }, names);
    const body = code.body.map((line) => this.dialect.rewrite(line, prefix));
    const results = c.outputs.map((p) => code.vars.get(p.node)!.out);
    const label = c.def.label?.trim() || c.id;
    const doc = c.def.doc ? `${label}: ${c.def.doc}` : `${label} (a composite block), its layers named "<name>_...".`;
    return this.units.share({
      label,
      code: this.dialect.define('', params, results, body).join('\n'),
      text: (name) => this.dialect.define(name, params, results, body, doc),
    });
  }
}

/** The graph's model code for a functional API: composites as functions, repeats as loops. */
export function writeFunctional(graph: GraphFile, dialect: Dialect): FunctionalModel {
  const analysis = analyzeForExport(graph);
  const inlined = inlineGraph(graph, analysis);
  const writer = new FunctionalWriter(graph, dialect, inlined);
  const inputs: string[] = [];
  const outputs: OutputNode[] = [];
  const top = writer.scope(analysis, { path: [], bound: new Map() }, writer.names(dialect.reserved), (n) => {
    if (n.info.block.type === 'io.input') inputs.push(n.name);
    if (n.info.block.type !== 'io.output') return;
    const loss = outputLoss(graph, analysis, n.key);
    outputs.push({ key: n.key, name: n.name, loss, lossWeight: loss ? (n.info.params.weight as number) : 0 });
  });
  const taken = new Set([...dialect.reserved, ...writer.helpers.keys(), ...writer.tables.flatMap((t) => [...t.taken])]);
  const { names, named } = writer.units.resolveNames(dialect.language, taken);
  return {
    analysis,
    inlined,
    helpers: [...writer.helpers.values()],
    functions: writer.units.list.map((u, k) => u.text(names[k]).map(named)),
    body: top.body.map(named),
    inputs,
    outputs,
  };
}
