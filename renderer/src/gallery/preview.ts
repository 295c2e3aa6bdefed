// A template's preview: its top-level node layout drawn small, boxes coloured
// by block category (composites drawn as stacks), wires as curves. Pure data;
// the gallery turns it into SVG.
import { registry } from '../../../engine/blocks/registry.js';
import { compositeIdOf } from '../../../engine/shapes/composite.js';
import type { GraphFile } from '../../../engine/graph/types.js';
import { categoryHue } from '../ui-format.js';

/** A node's box in flow coordinates (about what the canvas draws). */
export const PREVIEW_NODE = { width: 200, height: 90 };
const PAD = 40;

export interface PreviewBox {
  id: string;
  x: number;
  y: number;
  hue: number;
  composite: boolean;
  attention: boolean;
}

export interface Preview {
  /** SVG viewBox: x y width height. */
  viewBox: [number, number, number, number];
  boxes: PreviewBox[];
  /** Cubic curves, as SVG path data, from an output side to an input side. */
  wires: string[];
}

export function previewOf(graph: GraphFile): Preview {
  const boxes: PreviewBox[] = graph.nodes.map((n) => {
    const block = registry.get(n.type);
    const composite = compositeIdOf(n.type) !== undefined;
    return {
      id: n.id,
      x: n.position.x,
      y: n.position.y,
      hue: categoryHue(composite ? 'Composites' : (block?.category ?? '')),
      composite,
      attention: /attention/i.test(block?.category ?? ''),
    };
  });
  const at = new Map(boxes.map((b) => [b.id, b]));
  const wires: string[] = [];
  for (const e of graph.edges) {
    const a = at.get(e.from.node);
    const b = at.get(e.to.node);
    if (!a || !b) continue;
    const [x1, y1, x2, y2] = [a.x + PREVIEW_NODE.width, a.y + PREVIEW_NODE.height / 2, b.x, b.y + PREVIEW_NODE.height / 2];
    const bend = Math.max(40, Math.abs(x2 - x1) / 2);
    wires.push(`M${r(x1)} ${r(y1)}C${r(x1 + bend)} ${r(y1)} ${r(x2 - bend)} ${r(y2)} ${r(x2)} ${r(y2)}`);
  }
  if (boxes.length === 0) return { viewBox: [0, 0, PREVIEW_NODE.width, PREVIEW_NODE.height], boxes, wires };
  const minX = Math.min(...boxes.map((b) => b.x)) - PAD;
  const minY = Math.min(...boxes.map((b) => b.y)) - PAD;
  const maxX = Math.max(...boxes.map((b) => b.x)) + PREVIEW_NODE.width + PAD;
  const maxY = Math.max(...boxes.map((b) => b.y)) + PREVIEW_NODE.height + PAD;
  return { viewBox: [minX, minY, maxX - minX, maxY - minY], boxes, wires };
}

const r = (v: number) => Math.round(v);
