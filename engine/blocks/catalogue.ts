// A block as the catalogue shows it (`attn blocks --json`, the app's palette): its
// description, ports and parameter definitions, with no builder or emitter.
import { portsOf, type AnyBlock, type ParamDef } from './contract.js';
import { defaultParams } from './params.js';

function paramInfo(d: ParamDef) {
  const { doc, ...rest } = d;
  return { ...rest, doc };
}

export function blockInfo(b: AnyBlock) {
  const p = defaultParams(b);
  const port = ({ name, doc, rank, optional, attention, axes, dtype }: ReturnType<typeof portsOf>[number]) => ({
    name,
    doc,
    rank,
    optional,
    attention,
    axes,
    dtype,
  });
  return {
    type: b.type,
    label: b.label,
    category: b.category,
    doc: b.doc,
    paper: b.paper,
    inputs: portsOf(b, p, 'inputs').map(port),
    outputs: portsOf(b, p, 'outputs').map(port),
    params: Object.fromEntries(Object.entries(b.params).map(([k, d]) => [k, paramInfo(d)])),
  };
}
