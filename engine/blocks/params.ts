// Parameter schemas: each block's ParamDefs become a zod schema that fills in
// defaults and reports each bad value by parameter name.
import { z } from 'zod';
import type { AnyBlock, ParamDef, ParamDefs, ParamValues } from './contract.js';

export interface ParamProblem {
  param: string;
  message: string;
}

function rangeText(def: { min?: number; max?: number }): string {
  if (def.min !== undefined && def.max !== undefined) return `between ${def.min} and ${def.max}`;
  if (def.min !== undefined) return `at least ${def.min}`;
  return `at most ${def.max}`;
}

function numberSchema(def: { type: 'int' | 'float'; min?: number; max?: number }): z.ZodType<number> {
  const kind = def.type === 'int' ? 'an integer' : 'a number';
  let s = z.number({ error: `must be ${kind}` }).refine(Number.isFinite, { message: `must be ${kind}` });
  if (def.type === 'int') s = s.refine(Number.isInteger, { message: 'must be an integer' });
  if (def.min !== undefined || def.max !== undefined) {
    const { min = -Infinity, max = Infinity } = def;
    s = s.refine((v) => v >= min && v <= max, { message: `must be ${rangeText(def)}` });
  }
  return s;
}

export function paramSchema(def: ParamDef): z.ZodType {
  switch (def.type) {
    case 'int':
    case 'float':
      return numberSchema(def);
    case 'bool':
      return z.boolean({ error: 'must be true or false' });
    case 'enum':
      return z.string({ error: `must be one of ${def.options.join(', ')}` }).refine((v) => def.options.includes(v), {
        message: `must be one of ${def.options.join(', ')}`,
      });
    case 'string':
      return z.string({ error: 'must be a string' }).max(def.maxLength ?? 200, `must be at most ${def.maxLength ?? 200} characters`);
    case 'ints': {
      const item = numberSchema({ type: 'int', min: def.min, max: def.max });
      let s = z.array(item, { error: 'must be a list of integers' });
      if (def.minLength !== undefined) s = s.min(def.minLength, `must have at least ${def.minLength} entries`);
      if (def.maxLength !== undefined) s = s.max(def.maxLength, `must have at most ${def.maxLength} entries`);
      return s;
    }
  }
}

const schemaCache = new WeakMap<ParamDefs, Map<string, z.ZodType>>();

function schemasOf(defs: ParamDefs): Map<string, z.ZodType> {
  let m = schemaCache.get(defs);
  if (!m) {
    m = new Map(Object.entries(defs).map(([k, d]) => [k, paramSchema(d)]));
    schemaCache.set(defs, m);
  }
  return m;
}

export function defaultParams(block: AnyBlock): ParamValues<ParamDefs> {
  const out: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(block.params)) out[k] = Array.isArray(d.default) ? [...d.default] : d.default;
  return out as ParamValues<ParamDefs>;
}

/** A value as a message quotes it: short, whatever the file holds (a million-entry list, JSON nested past the stack). */
function preview(v: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    text = undefined;
  }
  if (text === undefined) return Array.isArray(v) ? 'a list nested too deep to show' : typeof v;
  return text.length > 80 ? `${text.slice(0, 60)}… (${text.length} characters)` : text;
}

/** Fills in defaults and checks every value; unknown parameters are problems too. */
export function resolveParams(block: AnyBlock, raw: Record<string, unknown> | undefined): { values: ParamValues<ParamDefs>; problems: ParamProblem[] } {
  const values = defaultParams(block) as Record<string, unknown>;
  const problems: ParamProblem[] = [];
  const schemas = schemasOf(block.params);
  for (const [k, v] of Object.entries(raw ?? {})) {
    const schema = schemas.get(k);
    if (!schema) {
      const known = Object.keys(block.params);
      problems.push({ param: k, message: `unknown parameter "${k}"${known.length ? ` (known: ${known.join(', ')})` : ''}` });
      continue;
    }
    const r = schema.safeParse(v);
    if (r.success) values[k] = v;
    else problems.push({ param: k, message: `parameter "${k}" ${r.error.issues[0]?.message ?? 'is invalid'} (got ${preview(v)})` });
  }
  return { values: values as ParamValues<ParamDefs>, problems };
}
