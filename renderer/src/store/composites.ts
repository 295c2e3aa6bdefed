// Grouping a selection into a composite block, and the other edits of
// composite definitions. Pure functions on the graph document, like document.ts.
import { produce } from 'immer';
import { COMPOSITE_INPUT, COMPOSITE_OUTPUT, compositeIdOf, compositeType } from '../../../engine/shapes/composite.js';
import type { CompositeDef, GraphEdge, GraphFile, GraphNode } from '../../../engine/graph/types.js';
import { edgeIdFor, freshId, nodeIdFor } from './document.js';
import { compositeDef, putScope, scopeGraph, type Scope } from './scope.js';

export type GroupResult = { ok: true; graph: GraphFile; composite: string; nodeId: string } | { ok: false; reason: string };

/** Node types that cannot move into a composite. */
const STAYS_OUT: Record<string, string> = {
  'io.input': 'an Input',
  'io.output': 'an Output',
  [COMPOSITE_INPUT]: 'a Composite input',
  [COMPOSITE_OUTPUT]: 'a Composite output',
};

/** Room left of and right of the grouped nodes for the port nodes inside. */
const PORT_GAP = 280;

/** A composite id that the file does not use yet: group1, group2, … */
export function freshCompositeId(graph: GraphFile, stem = 'group'): string {
  const used = new Set((graph.composites ?? []).map((c) => c.id));
  for (let k = 1; ; k++) if (!used.has(`${stem}${k}`)) return `${stem}${k}`;
}

/**
 * Moves the chosen nodes of a scope into a new composite and puts one instance
 * of it in their place. Edges inside the selection move with the nodes; each
 * outside output that feeds the selection becomes an input port, and each
 * selected output that feeds the outside becomes an output port, so the model
 * is the same before and after.
 */
export function groupNodes(graph: GraphFile, scope: Scope, nodeIds: Iterable<string>, label?: string): GroupResult {
  const view = scopeGraph(graph, scope);
  const chosen = new Set(nodeIds);
  const nodes = view.nodes.filter((n) => chosen.has(n.id));
  if (nodes.length === 0) return { ok: false, reason: 'select the nodes to group first' };
  const barred = nodes.find((n) => STAYS_OUT[n.type]);
  if (barred) return { ok: false, reason: `${STAYS_OUT[barred.type]} node ("${barred.id}") cannot go inside a composite: leave it out of the selection` };
  const inside = new Set(nodes.map((n) => n.id));
  const between = nodeBetween(view.edges, inside);
  if (between) return { ok: false, reason: `"${between}" lies between selected nodes, so the composite would feed itself: select it too, or fewer nodes` };

  const id = freshCompositeId(graph);
  const byId = new Map(view.nodes.map((n) => [n.id, n]));
  const into = view.edges.filter((e) => !inside.has(e.from.node) && inside.has(e.to.node));
  const outOf = view.edges.filter((e) => inside.has(e.from.node) && !inside.has(e.to.node));
  // One port per distinct source, ordered top to bottom as the nodes they touch.
  const ys = (es: GraphEdge[], end: 'from' | 'to') => Math.min(...es.map((e) => byId.get(e[end].node)!.position.y));
  const ports = (edges: GraphEdge[], end: 'from' | 'to', stem: string) => {
    const bySource = new Map<string, GraphEdge[]>();
    for (const e of edges) {
      const k = `${e.from.node}\u0000${e.from.port}`;
      bySource.set(k, [...(bySource.get(k) ?? []), e]);
    }
    const list = [...bySource.values()].sort((a, b) => ys(a, end) - ys(b, end));
    return list.map((edges, i) => ({ name: list.length === 1 ? stem : `${stem}${i + 1}`, edges, y: ys(edges, end) }));
  };
  const inPorts = ports(into, 'to', 'in');
  const outPorts = ports(outOf, 'from', 'out');

  const minX = Math.min(...nodes.map((n) => n.position.x));
  const maxX = Math.max(...nodes.map((n) => n.position.x));
  const minY = Math.min(...nodes.map((n) => n.position.y));
  const taken = new Set(inside);
  const innerId = (stem: string) => {
    let name = stem;
    for (let k = 2; taken.has(name); k++) name = `${stem}_${k}`;
    taken.add(name);
    return name;
  };
  const innerNodes: GraphNode[] = nodes.map((n) => ({ ...n, position: { x: n.position.x - minX + PORT_GAP, y: n.position.y - minY } }));
  const innerEdges: GraphEdge[] = view.edges.filter((e) => inside.has(e.from.node) && inside.has(e.to.node));
  const innerEdgeIds = new Set(innerEdges.map((e) => e.id ?? ''));
  const def: CompositeDef = { id, label: label?.trim() || `Group ${id.slice('group'.length)}`, nodes: innerNodes, edges: innerEdges };
  const instance = nodeIdFor(view, compositeType(id));
  const outerEdges: GraphEdge[] = view.edges.filter((e) => !inside.has(e.from.node) && !inside.has(e.to.node));
  const outerEdgeIds = new Set(outerEdges.map((e) => e.id ?? ''));

  for (const p of inPorts) {
    const portNode = innerId(p.name);
    innerNodes.push({ id: portNode, type: COMPOSITE_INPUT, params: { name: p.name }, position: { x: 0, y: p.y - minY } });
    for (const e of p.edges) innerEdges.push({ id: freshId(innerEdgeIds, 'e'), from: { node: portNode, port: 'out' }, to: { ...e.to } });
    const first = p.edges[0];
    outerEdges.push({ ...first, id: first.id ?? edgeIdFor(view, outerEdgeIds), from: { ...first.from }, to: { node: instance, port: p.name } });
  }
  for (const p of outPorts) {
    const portNode = innerId(p.name);
    const src = p.edges[0].from;
    innerNodes.push({ id: portNode, type: COMPOSITE_OUTPUT, params: { name: p.name }, position: { x: maxX - minX + 2 * PORT_GAP, y: p.y - minY } });
    innerEdges.push({ id: freshId(innerEdgeIds, 'e'), from: { ...src }, to: { node: portNode, port: 'in' } });
    for (const e of p.edges) outerEdges.push({ ...e, from: { node: instance, port: p.name }, to: { ...e.to } });
  }

  const at = view.nodes.findIndex((n) => inside.has(n.id));
  const instanceNode: GraphNode = {
    id: instance,
    type: compositeType(id),
    params: {},
    position: { x: minX, y: Math.round(nodes.reduce((s, n) => s + n.position.y, 0) / nodes.length) },
  };
  const outerNodes = view.nodes.filter((n) => !inside.has(n.id));
  outerNodes.splice(at, 0, instanceNode);
  const withDef = produce(graph, (g) => void (g.composites = [...(g.composites ?? []), def]));
  return {
    ok: true,
    graph: putScope(withDef, scope, { ...scopeGraph(withDef, scope), nodes: outerNodes, edges: outerEdges }),
    composite: id,
    nodeId: instance,
  };
}

/** An unselected node downstream of one selected node and upstream of another, if any. */
function nodeBetween(edges: readonly GraphEdge[], inside: ReadonlySet<string>): string | undefined {
  const reach = (forward: boolean) => {
    const next = new Map<string, string[]>();
    for (const e of edges) {
      const [a, b] = forward ? [e.from.node, e.to.node] : [e.to.node, e.from.node];
      next.set(a, [...(next.get(a) ?? []), b]);
    }
    const seen = new Set<string>();
    const stack = [...inside].flatMap((id) => next.get(id) ?? []);
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id) || inside.has(id)) continue;
      seen.add(id);
      stack.push(...(next.get(id) ?? []));
    }
    return seen;
  };
  const down = reach(true);
  for (const id of reach(false)) if (down.has(id)) return id;
  return undefined;
}

/** Renames a composite definition (every instance shows the new label). */
export function setCompositeLabel(graph: GraphFile, id: string, label: string): GraphFile {
  const def = compositeDef(graph, id);
  const next = label.trim() || undefined;
  if (!def || def.label === next) return graph;
  return produce(graph, (g) => {
    const d = g.composites!.find((c) => c.id === id)!;
    if (next === undefined) delete d.label;
    else d.label = next;
  });
}

/** Deletes a composite definition that nothing uses. */
export function removeComposite(graph: GraphFile, id: string): GraphFile {
  if (!compositeDef(graph, id) || compositeUses(graph, id) > 0) return graph;
  return produce(graph, (g) => void (g.composites = g.composites!.filter((c) => c.id !== id)));
}

/** How many nodes (at the top and inside composites) use composite `id`. */
export function compositeUses(graph: GraphFile, id: string): number {
  const type = compositeType(id);
  const scopes = [graph.nodes, ...(graph.composites ?? []).map((c) => c.nodes)];
  return scopes.reduce((sum, nodes) => sum + nodes.filter((n) => n.type === type).length, 0);
}

/** Composites that may be placed inside composite `inside` without it containing itself (all of them at the top). */
export function placeableComposites(graph: GraphFile, inside?: string): CompositeDef[] {
  const all = graph.composites ?? [];
  if (inside === undefined) return all;
  // Those from which `inside` cannot be reached through their own insides.
  const uses = new Map(all.map((c) => [c.id, c.nodes.flatMap((n) => compositeIdOf(n.type) ?? [])]));
  const reaches = (from: string, seen = new Set<string>()): boolean => {
    if (from === inside) return true;
    if (seen.has(from)) return false;
    seen.add(from);
    return (uses.get(from) ?? []).some((u) => reaches(u, seen));
  };
  return all.filter((c) => !reaches(c.id));
}

export type UngroupResult = { ok: true; graph: GraphFile; nodeIds: string[] } | { ok: false; reason: string };

/**
 * The inverse of grouping: replaces one instance of a composite by a copy of
 * its inside, wired as the instance was. The definition goes when nothing else
 * uses it. Inner ids that clash with the scope's get fresh ones.
 */
export function ungroupNode(graph: GraphFile, scope: Scope, nodeId: string): UngroupResult {
  const view = scopeGraph(graph, scope);
  const instance = view.nodes.find((n) => n.id === nodeId);
  const id = instance && compositeIdOf(instance.type);
  const def = id === undefined ? undefined : compositeDef(graph, id);
  if (!instance || !def) return { ok: false, reason: `"${nodeId}" is not a composite node` };
  if (Number(instance.params.repeat ?? 1) > 1)
    return { ok: false, reason: `"${nodeId}" repeats its composite ${String(instance.params.repeat)} times: set Repeat to 1 first` };

  const isPort = (n: GraphNode) => n.type === COMPOSITE_INPUT || n.type === COMPOSITE_OUTPUT;
  const portName = (n: GraphNode) => String(n.params.name);
  const ports = new Map(def.nodes.filter(isPort).map((n) => [n.id, n]));
  const inner = def.nodes.filter((n) => !isPort(n));
  const taken = new Set(view.nodes.filter((n) => n.id !== nodeId).map((n) => n.id));
  const rename = new Map(inner.map((n) => [n.id, taken.has(n.id) ? nodeIdFor(view, n.type, taken) : (taken.add(n.id), n.id)]));
  const minX = Math.min(...inner.map((n) => n.position.x));
  const minY = Math.min(...inner.map((n) => n.position.y));
  const shift = (p: { x: number; y: number }) => ({ x: p.x - minX + instance.position.x, y: p.y - minY + instance.position.y });
  const placed: GraphNode[] = inner.map((n) => ({ ...n, id: rename.get(n.id)!, position: shift(n.position) }));
  // The notes drawn on its inside come out with its nodes.
  const commentIds = new Set((view.comments ?? []).map((c) => c.id));
  const carried = (def.comments ?? []).map((c) => ({
    ...c,
    id: commentIds.has(c.id) ? freshId(commentIds, 'comment') : (commentIds.add(c.id), c.id),
    position: shift(c.position),
  }));
  const comments = carried.length ? [...(view.comments ?? []), ...carried] : view.comments;

  // Where each of the instance's inputs comes from, and where each of its outputs goes.
  const feeds = new Map(view.edges.filter((e) => e.to.node === nodeId).map((e) => [e.to.port, e.from]));
  const fedBy = (port: string) => view.edges.filter((e) => e.from.node === nodeId && e.from.port === port).map((e) => e.to);
  const edgeIds = new Set(view.edges.map((e) => e.id ?? ''));
  const edges: GraphEdge[] = view.edges.filter((e) => e.from.node !== nodeId && e.to.node !== nodeId);
  const add = (from: GraphEdge['from'], to: GraphEdge['to']) => edges.push({ id: freshId(edgeIds, 'e'), from: { ...from }, to: { ...to } });
  // An inner endpoint seen from outside: an inner node (renamed), or through a port node to the outside.
  const sources = (from: GraphEdge['from']): GraphEdge['from'][] => {
    const port = ports.get(from.node);
    if (!port) return [{ node: rename.get(from.node)!, port: from.port }];
    const outer = feeds.get(portName(port));
    return outer ? [outer] : [];
  };
  const targets = (to: GraphEdge['to']): GraphEdge['to'][] => {
    const port = ports.get(to.node);
    return port ? fedBy(portName(port)) : [{ node: rename.get(to.node)!, port: to.port }];
  };
  for (const e of def.edges) for (const from of sources(e.from)) for (const to of targets(e.to)) add(from, to);

  const at = view.nodes.findIndex((n) => n.id === nodeId);
  const nodes = [...view.nodes.slice(0, at), ...placed, ...view.nodes.slice(at + 1)];
  const next = putScope(graph, scope, { ...view, nodes, edges, comments });
  return { ok: true, graph: removeComposite(next, def.id), nodeIds: placed.map((n) => n.id) };
}
