// SGD with momentum, Adam and AdamW, written out (as in PyTorch's docs) so that
// their whole state is a list of tensors and a step count: checkpoints save it,
// and a resumed run continues bit for bit. Variables are addressed by position.
import type { Tensor, TF } from '../blocks/contract.js';
import type { TrainConfig } from './config.js';

type Variable = ReturnType<TF['variable']>;

export class Optimizer {
  /** Steps taken (Adam's bias correction needs it). */
  t = 0;
  /** Per variable: [momentum] for SGD, [first moment, second moment] for Adam(W). */
  private readonly slots: Variable[][];

  constructor(
    private readonly tf: TF,
    private readonly c: Pick<TrainConfig, 'optimizer' | 'momentum' | 'beta1' | 'beta2' | 'epsilon' | 'weightDecay'>,
    private readonly vars: Variable[],
  ) {
    const n = c.optimizer === 'sgd' ? (c.momentum > 0 ? 1 : 0) : 2;
    // tidy frees the zeros once the variables hold their own copies.
    this.slots = vars.map((v) => Array.from({ length: n }, () => tf.tidy(() => tf.variable(tf.zerosLike(v), false))));
  }

  private get weightDecay(): number {
    return this.c.weightDecay ?? (this.c.optimizer === 'adamw' ? 0.01 : 0);
  }

  /** One update with these gradients (same order as the variables) at rate `lr`. */
  apply(grads: Tensor[], lr: number): void {
    const { tf, c } = this;
    this.t++;
    const wd = this.weightDecay;
    tf.tidy(() => {
      this.vars.forEach((w, i) => {
        let g = grads[i];
        if (wd > 0 && c.optimizer !== 'adamw') g = g.add(w.mul(wd));
        if (c.optimizer === 'sgd') {
          if (c.momentum > 0) {
            const [m] = this.slots[i];
            m.assign(m.mul(c.momentum).add(g));
            g = m;
          }
          w.assign(w.sub(g.mul(lr)));
          return;
        }
        const [m, v] = this.slots[i];
        m.assign(m.mul(c.beta1).add(g.mul(1 - c.beta1)));
        v.assign(v.mul(c.beta2).add(g.square().mul(1 - c.beta2)));
        const mHat = m.div(1 - c.beta1 ** this.t);
        const vHat = v.div(1 - c.beta2 ** this.t);
        let next = w.sub(mHat.div(vHat.sqrt().add(c.epsilon)).mul(lr));
        if (wd > 0 && c.optimizer === 'adamw') next = next.sub(w.mul(lr * wd));
        w.assign(next);
      });
    });
  }

  /** The slot tensors, flattened in variable order (not copies: save them before the next step). */
  state(): Tensor[] {
    return this.slots.flat();
  }

  restore(t: number, tensors: Tensor[]): void {
    const flat = this.slots.flat();
    if (tensors.length !== flat.length) throw new Error(`optimizer checkpoint holds ${tensors.length} tensors, this optimizer has ${flat.length}`);
    flat.forEach((s, i) => s.assign(tensors[i]));
    this.t = t;
  }

  dispose(): void {
    for (const s of this.slots.flat()) s.dispose();
  }
}
