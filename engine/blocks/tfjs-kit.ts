// What the tfjs code shared by the engine and the TypeScript export stands on.
// Files written against this kit hold one implementation of a block on tfjs: the
// engine's builders call it, and the export copies its definitions into the
// exported file (engine/export/tfjs-sources.ts), where tsc checks them again. So
// such files import only tfjs's types and each other, never the engine, and take
// `tf` as an argument (the engine never imports tfjs at module level; in an
// exported file it is the imported module).
import type * as tf from '@tensorflow/tfjs';

/** The tfjs module. */
export type TF = typeof tf;

/** A tfjs tensor. */
export type Tensor = tf.Tensor;

/** A tfjs weight initialiser. */
export type Initializer = ReturnType<TF['initializers']['zeros']>;

/** Seeded initialisers, which the engine passes so that a graph and a seed give the same weights; an export passes none and gets tfjs's defaults. */
export interface Init {
  seed(): number;
  glorotUniform(): ReturnType<TF['initializers']['glorotUniform']>;
  heNormal(): ReturnType<TF['initializers']['heNormal']>;
  normal(stddev: number): ReturnType<TF['initializers']['randomNormal']>;
}

/** Applies a layer to symbolic tensors (the one cast the functional API needs). */
export const apply = (layer: { apply(x: tf.SymbolicTensor | tf.SymbolicTensor[]): unknown }, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
  layer.apply(x) as tf.SymbolicTensor;

/** The custom layer classes made so far, per tfjs instance. */
const madeLayers = new WeakMap<TF, Map<string, unknown>>();

/**
 * The custom layer class `className` of this tfjs instance: made by `make` the first time and registered for
 * serialisation (so that a trained model.json loads), then the same class (one module's classes, even where
 * another module registered a class of that name since). `register: false` is for a subclass that keeps a
 * built-in layer's className, whose model.json loads as that built-in, and which must not replace it.
 */
export function customLayer<C extends { className: string } & (new (...args: never[]) => unknown)>(
  tf: TF,
  className: string,
  make: (tf: TF) => C,
  { register = true } = {},
): C {
  let classes = madeLayers.get(tf);
  if (!classes) madeLayers.set(tf, (classes = new Map()));
  let cls = classes.get(className) as C | undefined;
  if (!cls) {
    cls = make(tf);
    if (cls.className !== className) throw new Error(`custom layer ${className} declares className ${cls.className}`);
    if (register) tf.serialization.registerClass(cls as unknown as Parameters<TF['serialization']['registerClass']>[0]);
    classes.set(className, cls);
  }
  return cls;
}
