// The block catalogue as the palette and quick-add show it: grouped by
// category in registry order, and searched by label, type, category and doc.
import { registry } from '../../../engine/blocks/registry.js';
import type { AnyBlock } from '../../../engine/blocks/contract.js';

export interface CategoryGroup {
  category: string;
  blocks: AnyBlock[];
}

export function groupByCategory(blocks: readonly AnyBlock[] = registry.all()): CategoryGroup[] {
  const groups = new Map<string, AnyBlock[]>();
  for (const b of blocks) {
    const list = groups.get(b.category);
    if (list) list.push(b);
    else groups.set(b.category, [b]);
  }
  return [...groups].map(([category, list]) => ({ category, blocks: list }));
}

/**
 * Blocks matching every word of the query, best first: a label that starts with
 * the query, then a word of the label, then type or category, then the doc.
 */
export function searchBlocks(query: string, blocks: readonly AnyBlock[] = registry.all()): AnyBlock[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...blocks];
  const scored: { b: AnyBlock; score: number; i: number }[] = [];
  blocks.forEach((b, i) => {
    const label = b.label.toLowerCase();
    const head = `${label} ${b.type.toLowerCase()} ${b.category.toLowerCase()}`;
    const doc = `${b.doc} ${b.paper ?? ''}`.toLowerCase();
    let score = 0;
    for (const w of words) {
      if (label.startsWith(w)) score += 8;
      else if (label.split(/[\s\-()]+/).some((t) => t.startsWith(w))) score += 5;
      else if (head.includes(w)) score += 3;
      else if (doc.includes(w)) score += 1;
      else return;
    }
    scored.push({ b, score, i });
  });
  return scored.sort((a, z) => z.score - a.score || a.i - z.i).map((s) => s.b);
}
