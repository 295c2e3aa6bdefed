// The limits a graph is held to (nodes after inlining, parameters, activation
// memory per sample, depth): their defaults, the ATTN_LIMITS syntax, and how
// counts are shown in messages. engine/shapes/limits.ts measures graphs against them.

export interface GraphLimits {
  /** Nodes after inlining composites and repeats (composite nodes and the port nodes inside them included). */
  nodes: number;
  /** Parameters (weights, trainable or not). */
  params: number;
  /** Bytes of all output tensors for one sample, float32. */
  activationBytes: number;
  /** tfjs layers along the longest path: tfjs-layers compiles a model recursively, and overflows the stack at about 4,000. */
  depth: number;
}

/** Every template passes these with room (see README, "Limits"). */
export const DEFAULT_LIMITS: Readonly<GraphLimits> = Object.freeze({
  nodes: 20_000,
  params: 250_000_000,
  activationBytes: 2 ** 30,
  depth: 2_000,
});

/** The environment variable that sets limits for every command and process (same syntax as --limits). */
export const LIMITS_ENV = 'ATTN_LIMITS';

export type GraphSize = GraphLimits;

const LIMIT_NAMES: Record<string, keyof GraphLimits> = {
  nodes: 'nodes',
  params: 'params',
  activation: 'activationBytes',
  depth: 'depth',
};

const UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, kb: 2 ** 10, mb: 2 ** 20, gb: 2 ** 30, tb: 2 ** 40 };

/**
 * Reads "nodes=50000,params=2e8,activation=4GB,depth=3000" (any subset).
 * Throws an Error that says what is wrong.
 */
export function parseLimits(text: string): Partial<GraphLimits> {
  const out: Partial<GraphLimits> = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z]+)\s*=\s*([0-9.]+(?:e[0-9]+)?)\s*([a-z]*)$/i.exec(part);
    const key = m && Object.hasOwn(LIMIT_NAMES, m[1].toLowerCase()) ? LIMIT_NAMES[m[1].toLowerCase()] : undefined;
    const unit = m ? m[3].toLowerCase() : '';
    const value = m && Object.hasOwn(UNITS, unit) ? Number(m[2]) * UNITS[unit] : NaN;
    if (!key || !Number.isFinite(value) || value <= 0)
      throw new Error(
        `bad limit "${part}": expected NAME=NUMBER with NAME one of ${Object.keys(LIMIT_NAMES).join(', ')} (e.g. nodes=50000,params=2e8,activation=4GB,depth=3000)`,
      );
    out[key] = value;
  }
  return out;
}

/** The limits in force: the defaults, then ATTN_LIMITS where there is a process environment, then `overrides`. */
export function resolveLimits(overrides: Partial<GraphLimits> = {}): GraphLimits {
  // The editor (a browser page) has no process environment; the CLI, host and training process do.
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[LIMITS_ENV];
  let fromEnv: Partial<GraphLimits> = {};
  if (env) {
    try {
      fromEnv = parseLimits(env);
    } catch (err) {
      throw new Error(`${LIMITS_ENV}: ${(err as Error).message}`);
    }
  }
  return { ...DEFAULT_LIMITS, ...fromEnv, ...overrides };
}

/** A count for messages: exact with separators, or in powers of ten when huge. */
export function fmtCount(n: number): string {
  if (!Number.isFinite(n)) return 'more than 1e308';
  return n < 1e15 ? Math.round(n).toLocaleString('en') : n.toExponential(2);
}

export function fmtBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MB`;
  return `${(n / 2 ** 10).toFixed(1)} KB`;
}
