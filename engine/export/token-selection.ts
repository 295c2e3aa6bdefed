// Where a graph takes one token of a sequence the long way round. The graph has
// no slicing block, so a ViT's class token is written as reshape [B, T, D] to a
// T×1 image, 1×1 poolings whose strides leave only row 0, and a flatten (see the
// ViT templates' "Class token" composite). Exported literally that is four
// lines of views and poolings; it is `x[:, 0]`, and the PyTorch export says so.
import type { NodeInfo, ScopeAnalysis } from '../shapes/analyze.js';

export interface TokenSelection {
  /** The node whose output is the token: the flatten at the end of the chain. */
  at: string;
  /** The sequence [B, T, D] the chain starts from (the reshape's input edge). */
  from: { node: string; port: string };
  /** The reshape and poolings, which write no code of their own. */
  skipped: string[];
}

const isOne = (d: number | null | undefined) => d === 1;

/** Every reshape → 1×1 "valid" poolings → flatten chain in a scope that leaves only token 0 of a sequence. */
export function tokenSelections(scope: ScopeAnalysis): TokenSelection[] {
  const consumers = (id: string) => scope.edges.filter((e) => e.from.node === id && scope.nodes.has(e.to.node));
  const next = (n: NodeInfo): NodeInfo | undefined => {
    const out = consumers(n.id);
    return out.length === 1 ? scope.nodes.get(out[0].to.node) : undefined;
  };
  const found: TokenSelection[] = [];
  for (const id of scope.order) {
    const reshape = scope.nodes.get(id)!;
    if (reshape.block.type !== 'core.reshape') continue;
    const seq = reshape.inputShapes.in;
    const image = reshape.outputShapes?.out;
    // [B, T, D] -> [B, T, 1, D]: each token becomes a row of a one-pixel-wide image.
    if (!seq || !image || seq.length !== 3 || image.length !== 4 || !isOne(image[2]) || image[1] !== seq[1] || image[3] !== seq[2]) continue;
    const skipped = [reshape.id];
    let n = next(reshape);
    while (n && n.block.type === 'core.pool2d' && n.params.size === 1 && n.params.padding === 'valid') {
      skipped.push(n.id);
      n = next(n);
    }
    const last = scope.nodes.get(skipped[skipped.length - 1])!;
    const pooled = last.outputShapes?.out;
    // Only row 0 is left (a 1×1 window at stride s reads rows 0, s, 2s, ...), then it is flattened to [B, D].
    if (skipped.length < 2 || !n || n.block.type !== 'core.flatten' || !pooled || !isOne(pooled[1]) || !isOne(pooled[2])) continue;
    const e = scope.edges[reshape.incoming.get('in')!];
    found.push({ at: n.id, from: { node: e.from.node, port: e.from.port }, skipped });
  }
  return found;
}
