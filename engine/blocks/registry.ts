// The block catalogue: every block the palette, checker and compiler know.
import type { AnyBlock } from './contract.js';
import { standardBlocks } from './standard.js';
import { attentionBlocks } from './attention/index.js';

export class BlockRegistry {
  private readonly byType = new Map<string, AnyBlock>();

  constructor(blocks: Iterable<AnyBlock>) {
    for (const b of blocks) this.register(b);
  }

  register(block: AnyBlock): void {
    if (this.byType.has(block.type)) throw new Error(`block type "${block.type}" is registered twice`);
    this.byType.set(block.type, block);
  }

  get(type: string): AnyBlock | undefined {
    return this.byType.get(type);
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  all(): AnyBlock[] {
    return [...this.byType.values()];
  }

  /** Known types closest to a misspelt one, for "did you mean" hints. */
  suggest(type: string): string | undefined {
    const lower = type.toLowerCase();
    const tail = lower.split('.').pop() ?? lower;
    let best: { t: string; d: number } | undefined;
    for (const t of this.byType.keys()) {
      const d = Math.min(editDistance(lower, t.toLowerCase()), editDistance(tail, t.toLowerCase().split('.').pop() ?? ''));
      if (!best || d < best.d) best = { t, d };
    }
    return best && best.d <= Math.max(2, Math.floor(tail.length / 3)) ? best.t : undefined;
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

export const registry = new BlockRegistry([...standardBlocks, ...attentionBlocks]);
