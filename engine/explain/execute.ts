// Runs part of a compiled model from an inner tensor onwards: the model's
// outputs as functions of a layer's activation, so that tf.grad can take the
// gradient of a class score with respect to that activation. It walks the
// layers as tfjs-layers' own executor does in predict (inference mode), with
// the inner tensor's value given instead of computed.
import type * as tfjs from '@tensorflow/tfjs';
import type { SymbolicTensor, Tensor } from '../blocks/contract.js';

type Symbolic = tfjs.SymbolicTensor;

/** The symbolic tensors `fetch` depends on, inputs first, not looking past the fed ones. */
function upstream(fetch: Symbolic, fed: ReadonlySet<number>): Symbolic[] {
  const seen = new Set<number>(fed);
  const order: Symbolic[] = [];
  const visit = (t: Symbolic): void => {
    if (seen.has(t.id)) return;
    seen.add(t.id);
    for (const i of t.inputs) visit(i);
    order.push(t);
  };
  visit(fetch);
  return order;
}

/**
 * `fetch` computed from the values of `feeds` (inner or input tensors of one
 * model). Every tensor `fetch` depends on must be fed or follow from the fed
 * ones; the model's inputs it still needs must be among the feeds.
 */
export function runFrom(fetch: SymbolicTensor, feeds: ReadonlyMap<SymbolicTensor, Tensor>): Tensor {
  const values = new Map<number, Tensor>();
  for (const [s, v] of feeds) values.set((s as Symbolic).id, v);
  for (const t of upstream(fetch as Symbolic, new Set(values.keys()))) {
    if (values.has(t.id)) continue;
    if (t.inputs.length === 0) throw new Error(`model input "${t.name}" is needed but was not given`);
    const args = t.inputs.map((i) => values.get(i.id)!);
    const produced = t.sourceLayer.apply(args, { training: false }) as Tensor | Tensor[];
    const list = Array.isArray(produced) ? produced : [produced];
    const outs = t.sourceLayer.inboundNodes[t.nodeIndex].outputTensors;
    outs.forEach((o, k) => values.set(o.id, list[k]));
  }
  return values.get((fetch as Symbolic).id)!;
}
