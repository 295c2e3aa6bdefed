// A node's box, known before it is drawn: every node is NODE_WIDTH wide (text
// is cut with an ellipsis, problems are badges that hang outside the box), and
// its height follows from its rows, each of a fixed height in styles.css
// (.block-node__header, .port, .kv, .block-node__composite). Layout can then
// place nodes React Flow has not measured yet: the ones out of view are not
// drawn (onlyRenderVisibleElements).
import type { AnyBlock } from '../../../engine/blocks/contract.js';
import type { NodeInfo } from '../../../engine/shapes/analysis-types.js';

export const NODE_WIDTH = 196;
/** The smallest text drawn on a node, in CSS px (port ranks, attention tags, the node id). */
export const NODE_SMALLEST_FONT_PX = 10;

const BORDER = 2;
const HEADER = 27;
/** .block-node__ports: padding 5 + 3. */
const PORTS_PADDING = 8;
const PORT_ROW = 18;
const PORT_GAP = 2;
/** .block-node__params: border 1 + padding 4 + 5. */
const PARAMS_PADDING = 10;
const PARAM_ROW = 16;
const COMPOSITE_ROW = 26;

/** Parameters shown on the node: the first few the block declares (blocks list the defining ones first); none on a composite. */
export function keyParamNames(block: AnyBlock | undefined, composite: boolean): string[] {
  return composite ? [] : Object.keys(block?.params ?? {}).slice(0, 3);
}

export function nodeHeight(info: Pick<NodeInfo, 'inputs' | 'outputs' | 'composite' | 'block'> | undefined, block?: AnyBlock): number {
  const rows = Math.max(info?.inputs.length ?? 0, info?.outputs.length ?? 0);
  const params = keyParamNames(info?.block ?? block, !!info?.composite).length;
  return (
    BORDER +
    HEADER +
    PORTS_PADDING +
    rows * PORT_ROW +
    Math.max(0, rows - 1) * PORT_GAP +
    (params ? PARAMS_PADDING + params * PARAM_ROW : 0) +
    (info?.composite ? COMPOSITE_ROW : 0)
  );
}
