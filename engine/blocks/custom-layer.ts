// Custom tfjs layers are made by a factory given `tf` (the engine never imports
// tfjs at module level), created once per tfjs instance and registered for
// serialisation so that trained models save and load in the tfjs format.
import type { TF } from './contract.js';

type LayerClass = { className: string } & (new (...args: never[]) => unknown);

const made = new WeakMap<TF, Map<string, LayerClass>>();

export function customLayer<C extends LayerClass>(tf: TF, className: string, make: (tf: TF) => C): C {
  let classes = made.get(tf);
  if (!classes) made.set(tf, (classes = new Map()));
  let cls = classes.get(className);
  if (!cls) {
    cls = make(tf);
    if (cls.className !== className) throw new Error(`custom layer ${className} declares className ${cls.className}`);
    tf.serialization.registerClass(cls as unknown as Parameters<TF['serialization']['registerClass']>[0]);
    classes.set(className, cls);
  }
  return cls as C;
}
