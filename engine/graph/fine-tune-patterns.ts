// Which nodes fine-tuning freezes, and at what learning rate the others train:
// the node patterns of the training settings (freeze, lrMultipliers), matched
// against inlined node keys. Node-free and tfjs-free, so the trainers, the
// exporters and the app's inspector and summary all read the patterns alike.
//
// Nodes are named by id or id prefix. Inside composites a node is its inlined
// key ("stage1#2/conv2"); a pattern matches the key or the key without its copy
// marks ("stage1/conv2": that node in every copy of stage1), so "stage1" is
// everything inside stage1 and "stage" every stage.

/** The fine-tuning settings that decide which weights train and how fast (trainConfigSchema's names). */
export interface FineTuning {
  freeze: readonly string[];
  frozenBatchNorm: 'inference' | 'train';
  lrMultipliers: Readonly<Record<string, number>>;
}

/** Whether node pattern `pattern` names the inlined node `key`. */
export function matchesNode(key: string, pattern: string): boolean {
  return [key, key.replace(/#\d+/g, '')].some((k) => k.startsWith(pattern));
}

/** The learning-rate multiplier of a node: its longest matching pattern's, 1 where none matches. */
export function lrMultiplierOf(key: string, multipliers: Readonly<Record<string, number>>): number {
  let best: string | undefined;
  for (const p of Object.keys(multipliers)) if (matchesNode(key, p) && (best === undefined || p.length > best.length)) best = p;
  return best === undefined ? 1 : multipliers[best];
}

/** Frozen: named by `freeze`, or by a learning-rate multiplier of 0. */
export const isFrozen = (key: string, c: Pick<FineTuning, 'freeze' | 'lrMultipliers'>): boolean =>
  c.freeze.some((p) => matchesNode(key, p)) || lrMultiplierOf(key, c.lrMultipliers) === 0;

/** Patterns that name none of the node keys are typos: refused with the node ids there are. */
export function checkPatterns(c: Pick<FineTuning, 'freeze' | 'lrMultipliers'>, keys: readonly string[]): void {
  for (const [what, patterns] of [
    ['freeze', c.freeze],
    ['lrMultipliers', Object.keys(c.lrMultipliers)],
  ] as const)
    for (const p of patterns)
      if (!keys.some((k) => matchesNode(k, p)))
        throw new Error(`${what}: "${p}" names no node of the graph (node ids: ${[...new Set(keys.map((k) => k.split(/[/#]/)[0]))].join(', ')})`);
}
