// tfjs saves the tensors a gradient needs (a kernel's inputs or outputs) as
// clones: an Identity kernel run through the engine and a tape node for each
// (engine.saveTensorsForBackwardMode), so that a higher-order gradient can
// follow a saved tensor back to the one it copies. A first-order gradient, a
// training step's, never differentiates what a gradient function computes,
// so there the clone's tape node is pruned unused and the Identity only
// shares the data. About a third of the kernel calls of a small CNN's step
// are these clones (103 of 351 in cbam-mnist-small), each one the engine's
// whole bookkeeping; this saves a new tensor on the same data instead.
import type { TF, Tensor } from '../blocks/contract.js';
import { oncePerEngine } from './once.js';

/** The part of tfjs's Engine this uses (tfjs-core 4.22, engine.ts). */
interface EngineInternals {
  state: { gradientDepth: number; tensorInfo: Map<object, { backend: object }> };
  backend: { incRef(dataId: object): void };
  saveTensorsForBackwardMode(tensors: Tensor[]): Tensor[];
  makeTensorFromTensorInfo(info: { dataId: object; shape: number[]; dtype: string }, backend?: object): Tensor;
  keep<T extends Tensor>(t: T): T;
}

/**
 * Makes tfjs save a tensor for a first-order gradient (gradient depth 1) as a
 * tensor sharing its data, without the Identity kernel and its tape node;
 * nested gradients keep tfjs's clones. Same values, same lifetimes: the saved
 * tensor is kept, and disposed by the engine after the backward pass, as before.
 */
export const registerLeanTape = oncePerEngine((tf: TF): void => {
  const engine = tf.engine() as unknown as EngineInternals;
  const clone = engine.saveTensorsForBackwardMode.bind(engine);
  engine.saveTensorsForBackwardMode = (tensors) => {
    const backend = engine.backend;
    if (engine.state.gradientDepth !== 1 || tensors.some((t) => engine.state.tensorInfo.get(t.dataId)?.backend !== backend)) return clone(tensors);
    return tensors.map((t) => {
      backend.incRef(t.dataId);
      return engine.keep(engine.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }, backend));
    });
  };
});
