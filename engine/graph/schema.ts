// The graph file format (`*.attn.json`): its zod schema, version check and parsing.
import { z } from 'zod';
import type { Diagnostic, GraphFile } from './types.js';
import { DEFAULT_LIMITS, fmtCount, LIMITS_ENV, resolveLimits, type GraphLimits } from './limit-settings.js';

export const GRAPH_FORMAT = 'attention-studio.graph';
/** Version 2 added `composites`. */
export const GRAPH_VERSION = 2;

const id = z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const endpoint = z.object({ node: id, port: id });

const nodeSchema = z.looseObject({
  id,
  type: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
  label: z.string().max(200).optional(),
  params: z.record(z.string(), z.unknown(), { error: 'must be an object' }).default({}),
  position: z.object({ x: z.number(), y: z.number() }).default({ x: 0, y: 0 }),
  bypass: z.boolean({ error: 'must be true or false' }).optional(),
});

const point = z.object({ x: z.number(), y: z.number() });
/** `via`: reroute points the wire is drawn through, in order. */
const edgeSchema = z.looseObject({ id: id.optional(), from: endpoint, to: endpoint, via: z.array(point).max(100).optional() });

/** A note or frame on the canvas: drawn behind the nodes, not part of the model. */
const commentSchema = z.looseObject({
  id,
  text: z.string().max(10_000).default(''),
  position: point,
  size: z.object({ width: z.number().positive(), height: z.number().positive() }),
  color: z.string().max(40).optional(),
});

const compositeSchema = z.looseObject({
  id: z
    .string({ error: 'must be a string' })
    .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/, 'must start with a letter or "_" and hold only letters, digits, "_", "." and "-" (at most 100)'),
  label: z.string().max(200).optional(),
  doc: z.string().optional(),
  nodes: z.array(nodeSchema, { error: 'must be a list of nodes' }),
  edges: z.array(edgeSchema, { error: 'must be a list of edges' }).default([]),
  comments: z.array(commentSchema, { error: 'must be a list of comments' }).optional(),
});

/** The current version's schema: a file of an older version must be migrated first (see graphSchema). */
const currentSchema = z.looseObject({
  format: z.literal(GRAPH_FORMAT),
  version: z.literal(GRAPH_VERSION),
  name: z.string({ error: 'must be a string' }).max(200),
  description: z.string().optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  nodes: z.array(nodeSchema, { error: 'must be a list of nodes' }),
  edges: z.array(edgeSchema, { error: 'must be a list of edges' }).default([]),
  composites: z.array(compositeSchema, { error: 'must be a list of composites' }).optional(),
  comments: z.array(commentSchema, { error: 'must be a list of comments' }).optional(),
  training: z.record(z.string(), z.unknown()).optional(),
  dataset: z.record(z.string(), z.unknown()).optional(),
});

/** Each step takes a document of version k to version k + 1. */
const MIGRATIONS: Record<number, (doc: Record<string, unknown>) => Record<string, unknown>> = {
  // Version 2 only added the optional `composites` list.
  1: (doc) => ({ ...doc, version: 2 }),
};

/** Brings a document of an older version up to GRAPH_VERSION; anything else comes back as it is. */
export function migrateGraphDoc(doc: unknown): unknown {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return doc;
  let d = doc as Record<string, unknown>;
  while (typeof d.version === 'number' && MIGRATIONS[d.version] && d.version < GRAPH_VERSION) d = MIGRATIONS[d.version](d);
  return d;
}

/** A graph file of any version this build reads, migrated to the current one. */
export const graphSchema = z.preprocess(migrateGraphDoc, currentSchema);

/** Where in a JSON text a character offset falls, 1-based. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function jsonError(text: string, err: unknown): Diagnostic {
  const raw = err instanceof Error ? err.message : String(err);
  const lc = /\(line (\d+) column (\d+)\)/.exec(raw);
  const pos = /at position (\d+)/.exec(raw);
  let where: { line: number; column: number };
  if (lc) where = { line: Number(lc[1]), column: Number(lc[2]) };
  else if (pos) where = lineColumn(text, Number(pos[1]));
  else where = lineColumn(text, text.length);
  const reason = raw
    .replace(/\s*\(line \d+ column \d+\)/, '')
    .replace(/,? in JSON at position \d+/, '')
    .replace(/^JSON\.parse: /, '');
  return { severity: 'error', message: `malformed JSON at line ${where.line}, column ${where.column}: ${reason}`, ...where };
}

function pathText(path: readonly PropertyKey[], doc: unknown): string {
  let s = '';
  let cur: unknown = doc;
  for (const k of path) {
    if (typeof k === 'number') {
      const item = Array.isArray(cur) ? cur[k] : undefined;
      const itemId =
        item && typeof item === 'object' && typeof (item as { id?: unknown }).id === 'string' ? ` ("${shortId((item as { id: string }).id)}")` : '';
      s += `[${k}]${itemId}`;
    } else s += s ? `.${String(k)}` : String(k);
    cur = cur && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  }
  return s || 'file';
}

/** An id as messages quote it: a hostile million-character id is cut. */
const shortId = (id: string) => (id.length > 200 ? `${id.slice(0, 100)}…(${id.length} characters)` : id);

/** The id of the list entry `path` starts in, if it is one a diagnostic can name (a string within the id rules). */
function entryId(list: unknown, index: PropertyKey): string | undefined {
  const item = Array.isArray(list) && typeof index === 'number' ? (list[index] as { id?: unknown } | undefined) : undefined;
  const id = item && typeof item === 'object' ? item.id : undefined;
  return typeof id === 'string' && id.length >= 1 && id.length <= 200 ? id : undefined;
}

/** More node entries than the node limit cannot pass it expanded either: refused before the schema walks them all. */
function countProblem(doc: Record<string, unknown>, limits: Partial<GraphLimits>): Diagnostic | undefined {
  let limit: number;
  try {
    limit = resolveLimits(limits).nodes;
  } catch {
    limit = limits.nodes ?? DEFAULT_LIMITS.nodes; // a bad ATTN_LIMITS is reported by the analysis
  }
  const lists = [doc, ...(Array.isArray(doc.composites) ? doc.composites : [])] as { nodes?: unknown; edges?: unknown }[];
  const count = (key: 'nodes' | 'edges') => lists.reduce((n, l) => n + (l && Array.isArray(l[key]) ? (l[key] as unknown[]).length : 0), 0);
  const [nodes, edges] = [count('nodes'), count('edges')];
  if (nodes > limit)
    return {
      severity: 'error',
      message: `the file has ${fmtCount(nodes)} nodes, over the limit of ${fmtCount(limit)} nodes (raise it with --limits nodes=N or ${LIMITS_ENV})`,
    };
  if (edges > 4 * limit)
    return {
      severity: 'error',
      message: `the file has ${fmtCount(edges)} edges, over the limit of ${fmtCount(4 * limit)} (four per node of the node limit; raise it with --limits nodes=N or ${LIMITS_ENV})`,
    };
  return undefined;
}

/**
 * JSON.parse keeps a "__proto__" key as an ordinary property, but copying the
 * object (as the schema does) turns it into the copy's prototype: the key would
 * vanish silently, or lend the object properties it does not have. Refused,
 * where it is, on the node it is in.
 */
function protoKeyProblems(doc: unknown): Diagnostic[] {
  type Link = { parent?: Link; key: PropertyKey };
  const problems: Diagnostic[] = [];
  const stack: { value: unknown; at?: Link }[] = [{ value: doc }];
  while (stack.length && problems.length < 20) {
    const { value, at } = stack.pop()!;
    if (!value || typeof value !== 'object') continue;
    if (!Array.isArray(value) && Object.hasOwn(value, '__proto__')) {
      const path: PropertyKey[] = [];
      for (let l = at; l; l = l.parent) path.unshift(l.key);
      const d: Diagnostic = { severity: 'error', message: `${pathText(path, doc)}: "__proto__" is not allowed as a key` };
      const nodeId = path[0] === 'nodes' ? entryId((doc as { nodes?: unknown }).nodes, path[1]) : undefined;
      const composite = path[0] === 'composites' ? entryId((doc as { composites?: unknown }).composites, path[1]) : undefined;
      problems.push({ ...d, ...(nodeId !== undefined && { nodeId }), ...(composite !== undefined && { composite }) });
    }
    for (const [key, v] of Object.entries(value))
      if (v && typeof v === 'object') stack.push({ value: v, at: { parent: at, key: Array.isArray(value) ? Number(key) : key } });
  }
  return problems;
}

/** Checks format and version first, so that a newer file gets a clear refusal and an older one is migrated, then the schema. */
export function checkGraphSchema(doc: unknown, opts: { limits?: Partial<GraphLimits> } = {}): { graph?: GraphFile; diagnostics: Diagnostic[] } {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    return { diagnostics: [{ severity: 'error', message: 'not a graph file: the top level must be a JSON object' }] };
  const { format, version } = doc as { format?: unknown; version?: unknown };
  if (format !== GRAPH_FORMAT)
    return {
      diagnostics: [{ severity: 'error', message: `not an Attention Studio graph file: "format" is ${JSON.stringify(format)}, expected "${GRAPH_FORMAT}"` }],
    };
  if (typeof version !== 'number' || !Number.isInteger(version))
    return { diagnostics: [{ severity: 'error', message: `"version" must be an integer, got ${JSON.stringify(version)}` }] };
  if (version > GRAPH_VERSION)
    return {
      diagnostics: [
        {
          severity: 'error',
          message: `this file is format version ${version}, made by a newer Attention Studio; this version reads up to version ${GRAPH_VERSION}`,
        },
      ],
    };
  if (version < 1) return { diagnostics: [{ severity: 'error', message: `unknown format version ${version}` }] };

  const tooMany = countProblem(doc as Record<string, unknown>, opts.limits ?? {});
  if (tooMany) return { diagnostics: [tooMany] };
  const protoKeys = protoKeyProblems(doc);
  if (protoKeys.length) return { diagnostics: protoKeys };
  const r = currentSchema.safeParse(migrateGraphDoc(doc));
  if (r.success) return { graph: r.data as GraphFile, diagnostics: [] };
  const { nodes, composites } = doc as { nodes?: unknown; composites?: unknown };
  return {
    diagnostics: r.error.issues.map((issue) => {
      const d: Diagnostic = { severity: 'error', message: `${pathText(issue.path, doc)}: ${issue.message}` };
      const [list, index] = issue.path;
      if (list === 'nodes') d.nodeId = entryId(nodes, index);
      if (list === 'edges' && typeof index === 'number') d.edge = index;
      // Inside a composite's definition: the composite is what the editor can point at.
      if (list === 'composites') d.composite = entryId(composites, index);
      if (d.nodeId === undefined) delete d.nodeId;
      if (d.composite === undefined) delete d.composite;
      return d;
    }),
  };
}

/** Parses the text of a graph file. Never throws. */
export function parseGraphText(text: string, opts: { limits?: Partial<GraphLimits> } = {}): { graph?: GraphFile; diagnostics: Diagnostic[] } {
  let doc: unknown;
  // Editors on Windows save UTF-8 with a byte order mark; JSON.parse refuses it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { diagnostics: [jsonError(text, err)] };
  }
  return checkGraphSchema(doc, opts);
}

export function serializeGraph(graph: GraphFile): string {
  return `${JSON.stringify(graph, null, 2)}\n`;
}
