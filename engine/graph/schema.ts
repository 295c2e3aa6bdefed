// The graph file format (`*.attn.json`): its zod schema, version check and parsing.
import { z } from 'zod';
import type { Diagnostic, GraphFile } from './types.js';

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
});

const edgeSchema = z.looseObject({ id: id.optional(), from: endpoint, to: endpoint });

const compositeSchema = z.looseObject({
  id: z
    .string({ error: 'must be a string' })
    .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/, 'must start with a letter or "_" and hold only letters, digits, "_", "." and "-" (at most 100)'),
  label: z.string().max(200).optional(),
  doc: z.string().optional(),
  nodes: z.array(nodeSchema, { error: 'must be a list of nodes' }),
  edges: z.array(edgeSchema, { error: 'must be a list of edges' }).default([]),
});

/** The current version's schema: a file of an older version must be migrated first (see graphSchema). */
const currentSchema = z.looseObject({
  format: z.literal(GRAPH_FORMAT),
  version: z.literal(GRAPH_VERSION),
  name: z.string({ error: 'must be a string' }).max(200),
  description: z.string().optional(),
  seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  nodes: z.array(nodeSchema, { error: 'must be a list of nodes' }),
  edges: z.array(edgeSchema, { error: 'must be a list of edges' }).default([]),
  composites: z.array(compositeSchema, { error: 'must be a list of composites' }).optional(),
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
  const reason = raw.replace(/\s*\(line \d+ column \d+\)/, '').replace(/,? in JSON at position \d+/, '').replace(/^JSON\.parse: /, '');
  return { severity: 'error', message: `malformed JSON at line ${where.line}, column ${where.column}: ${reason}`, ...where };
}

function pathText(path: readonly PropertyKey[], doc: unknown): string {
  let s = '';
  let cur: unknown = doc;
  for (const k of path) {
    if (typeof k === 'number') {
      const item = Array.isArray(cur) ? cur[k] : undefined;
      const itemId = item && typeof item === 'object' && typeof (item as { id?: unknown }).id === 'string' ? ` ("${(item as { id: string }).id}")` : '';
      s += `[${k}]${itemId}`;
    } else s += s ? `.${String(k)}` : String(k);
    cur = cur && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  }
  return s || 'file';
}

/** Checks format and version first, so that a newer file gets a clear refusal and an older one is migrated, then the schema. */
export function checkGraphSchema(doc: unknown): { graph?: GraphFile; diagnostics: Diagnostic[] } {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    return { diagnostics: [{ severity: 'error', message: 'not a graph file: the top level must be a JSON object' }] };
  const { format, version } = doc as { format?: unknown; version?: unknown };
  if (format !== GRAPH_FORMAT)
    return {
      diagnostics: [
        { severity: 'error', message: `not an Attention Studio graph file: "format" is ${JSON.stringify(format)}, expected "${GRAPH_FORMAT}"` },
      ],
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

  const r = currentSchema.safeParse(migrateGraphDoc(doc));
  if (r.success) return { graph: r.data as GraphFile, diagnostics: [] };
  return {
    diagnostics: r.error.issues.map((issue) => {
      const d: Diagnostic = { severity: 'error', message: `${pathText(issue.path, doc)}: ${issue.message}` };
      if (issue.path[0] === 'nodes' && typeof issue.path[1] === 'number') {
        const n = (doc as { nodes: unknown[] }).nodes[issue.path[1]] as { id?: unknown } | undefined;
        if (n && typeof n.id === 'string') d.nodeId = n.id;
      }
      if (issue.path[0] === 'edges' && typeof issue.path[1] === 'number') d.edge = issue.path[1];
      return d;
    }),
  };
}

/** Parses the text of a graph file. Never throws. */
export function parseGraphText(text: string): { graph?: GraphFile; diagnostics: Diagnostic[] } {
  let doc: unknown;
  // Editors on Windows save UTF-8 with a byte order mark; JSON.parse refuses it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { diagnostics: [jsonError(text, err)] };
  }
  return checkGraphSchema(doc);
}

export function serializeGraph(graph: GraphFile): string {
  return `${JSON.stringify(graph, null, 2)}\n`;
}
