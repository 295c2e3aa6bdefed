// tfjs keeps its kernel and gradient registries per engine: each repair or
// kernel set is registered once per tfjs instance, however often it is asked for.
import type { TF } from '../blocks/contract.js';

export function oncePerEngine(register: (tf: TF) => void): (tf: TF) => void {
  const done = new WeakSet<object>();
  return (tf) => {
    if (done.has(tf.engine())) return;
    done.add(tf.engine());
    register(tf);
  };
}
