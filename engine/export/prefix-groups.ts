// Settings per name, written by prefix: a prefix stands for the names below it,
// so that a frozen ResNet backbone reads as a few module (or layer) names rather
// than hundreds. Shared by the PyTorch export (dotted module names) and the
// Keras export (layer names joined by "_").

/**
 * The fewest prefixes of `names` (split at `separator`) that give each name its
 * value: a prefix is listed when all names below it have the same value and its
 * parent's names do not. Names without a value are left out.
 */
export function byPrefix<V>(names: readonly string[], valueOf: (name: string) => V | undefined, separator = '.'): [string, V][] {
  const below = new Map<string, Set<V | undefined>>();
  for (const n of names) {
    const parts = n.split(separator);
    for (let i = 1; i <= parts.length; i++) {
      const m = parts.slice(0, i).join(separator);
      if (!below.has(m)) below.set(m, new Set());
      below.get(m)!.add(valueOf(n));
    }
  }
  const uniform = (m: string) => below.get(m)!.size === 1 && [...below.get(m)!][0] !== undefined;
  const out: [string, V][] = [];
  for (const m of below.keys()) {
    const parent = m.includes(separator) ? m.slice(0, m.lastIndexOf(separator)) : undefined;
    if (uniform(m) && (parent === undefined || !uniform(parent))) out.push([m, [...below.get(m)!][0]!]);
  }
  return out;
}
