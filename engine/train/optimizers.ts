// SGD with momentum, Adam and AdamW, written out (as in PyTorch's docs) so that
// their whole state is a list of tensors and a step count: checkpoints save it,
// and a resumed run continues bit for bit. Variables are addressed by position.
//
// On the wasm backend the update runs in JavaScript over the wasm heap: the
// tensor version costs about 13 small kernels per variable, whose dispatch
// outweighs their arithmetic on a small net. The moments are updated in place;
// the new weights go to a new tensor, since wasm's convolutions and matrix
// products cache their packed filter by data id. The heap version rounds every
// intermediate to float32 as the kernels do, so it gives the tensor version's
// values bit for bit (IEEE float32 +, -, ×, ÷ and sqrt are exact roundings of
// the same operations in float64).
import type { Tensor, TF } from '../blocks/contract.js';
import { wasmHeapAccess, type HeapAccess } from '../backends/wasm-heap-kernels.js';
import type { TrainConfig } from '../schemas/train-config.js';

type Variable = ReturnType<TF['variable']>;

/** The scalars of one step, as the float32 constants that the tensor ops see. */
interface StepScalars {
  lr: number;
  /** L2 decay added to the gradient (SGD, Adam), 0 for none. */
  l2: number;
  /** AdamW's decoupled decay, lr·wd, 0 for none. */
  decoupled: number;
  momentum: number;
  beta1: number;
  beta2: number;
  /** 1 - β1, 1 - β2 and the bias corrections 1 - β^t. */
  oneMinusBeta1: number;
  oneMinusBeta2: number;
  correction1: number;
  correction2: number;
  epsilon: number;
}

const f32 = Math.fround;

export class Optimizer {
  /** Steps taken (Adam's bias correction needs it). */
  t = 0;
  /** Per variable: [momentum] for SGD, [first moment, second moment] for Adam(W). */
  private readonly slots: Variable[][];

  constructor(
    private readonly tf: TF,
    private readonly c: Pick<TrainConfig, 'optimizer' | 'momentum' | 'beta1' | 'beta2' | 'epsilon' | 'weightDecay'>,
    private readonly vars: Variable[],
    /** Per variable: its learning rate is `lr` times this (fine-tuning's lrMultipliers); all 1 by default. */
    private readonly lrScale: number[] = vars.map(() => 1),
  ) {
    const n = c.optimizer === 'sgd' ? (c.momentum > 0 ? 1 : 0) : 2;
    // tidy frees the zeros once the variables hold their own copies.
    this.slots = vars.map((v) => Array.from({ length: n }, () => tf.tidy(() => tf.variable(tf.zerosLike(v), false))));
  }

  /** State tensors kept per weight: 1 for SGD with momentum, 2 for Adam(W). */
  get slotsPerWeight(): number {
    return this.slots[0]?.length ?? 0;
  }

  private get weightDecay(): number {
    return this.c.weightDecay ?? (this.c.optimizer === 'adamw' ? 0.01 : 0);
  }

  /** One update with these gradients (same order as the variables) at rate `lr`. */
  apply(grads: Tensor[], lr: number): void {
    this.t++;
    const heap = wasmHeapAccess(this.tf);
    const scalars = heap ? this.scalars(lr) : null;
    this.tf.tidy(() => {
      this.vars.forEach((w, i) => {
        const scale = this.lrScale[i];
        // Moments whose data another tensor shares (a clone kept somewhere) take the tensor path, which leaves that tensor as it was.
        const inPlace = heap && scalars && w.dtype === 'float32' && grads[i].dtype === 'float32' && this.slots[i].every((t) => heap.exclusive(t));
        if (inPlace) this.updateOnHeap(heap, scale === 1 ? scalars : this.scalars(lr * scale), i, grads[i]);
        else this.updateTensors(i, grads[i], lr * scale);
      });
    });
  }

  private updateTensors(i: number, grad: Tensor, lr: number): void {
    const { c } = this;
    const w = this.vars[i];
    const wd = this.weightDecay;
    let g = grad;
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
  }

  private scalars(lr: number): StepScalars {
    const { c } = this;
    const wd = this.weightDecay;
    return {
      lr: f32(lr),
      l2: wd > 0 && c.optimizer !== 'adamw' ? f32(wd) : 0,
      decoupled: wd > 0 && c.optimizer === 'adamw' ? f32(lr * wd) : 0,
      momentum: f32(c.momentum),
      beta1: f32(c.beta1),
      beta2: f32(c.beta2),
      oneMinusBeta1: f32(1 - c.beta1),
      oneMinusBeta2: f32(1 - c.beta2),
      correction1: f32(1 - c.beta1 ** this.t),
      correction2: f32(1 - c.beta2 ** this.t),
      epsilon: f32(c.epsilon),
    };
  }

  /** updateTensors' arithmetic, op for op, on the heap (views taken after the one allocation, so they stay valid). */
  private updateOnHeap(heap: HeapAccess, s: StepScalars, i: number, grad: Tensor): void {
    const variable = this.vars[i];
    const updated = heap.output(variable.shape);
    const out = heap.view(updated);
    const w = heap.view(variable);
    const g = heap.view(grad);
    const slots = this.slots[i].map((t) => heap.view(t));
    const n = w.length;
    if (this.c.optimizer === 'sgd') {
      const [m] = slots;
      for (let j = 0; j < n; j++) {
        let gj = s.l2 ? f32(g[j] + f32(w[j] * s.l2)) : g[j];
        if (m) gj = m[j] = f32(f32(m[j] * s.momentum) + gj);
        out[j] = f32(w[j] - f32(gj * s.lr));
      }
    } else {
      const [m, v] = slots;
      for (let j = 0; j < n; j++) {
        const wj = w[j];
        const gj = s.l2 ? f32(g[j] + f32(wj * s.l2)) : g[j];
        const mj = (m[j] = f32(f32(m[j] * s.beta1) + f32(gj * s.oneMinusBeta1)));
        const vj = (v[j] = f32(f32(v[j] * s.beta2) + f32(f32(gj * gj) * s.oneMinusBeta2)));
        const denominator = f32(f32(Math.sqrt(f32(vj / s.correction2))) + s.epsilon);
        const next = f32(wj - f32(f32(f32(mj / s.correction1) / denominator) * s.lr));
        out[j] = s.decoupled ? f32(next - f32(wj * s.decoupled)) : next;
      }
    }
    variable.assign(updated);
  }

  /** The slot tensors, flattened in variable order (not copies: save them before the next step, which may update them in place). */
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
