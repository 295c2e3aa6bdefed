// Export helpers of the caption decoder: the PyTorch and Keras classes live in
// engine/export/{torch,keras}/caption_attention.py; the tfjs layer is below.
import type { CodeHelper } from '../../contract.js';
import { kerasHelper, torchHelper } from '../../emit/torch-helper.js';

export const TORCH_SHOW_ATTEND_TELL = torchHelper('ShowAttendTell', 'caption_attention.py');

export const KERAS_SHOW_ATTEND_TELL = kerasHelper('ShowAttendTell', 'caption_attention.py');

export const TS_SHOW_ATTEND_TELL: CodeHelper = {
  name: 'ShowAttendTell',
  code: `/**
 * The soft-attention caption decoder of Show, Attend and Tell (Xu et al. 2015), with a GRU: [B, H, W, C] →
 * [words [B, T, V], attention [B, T, H, W]]. At step t, α_t = softmax(vᵀ tanh(a W_key + b_key + s_{t−1} W_query))
 * over the H·W annotations a (each plus a learned position embedding), z_t = Σ α_ti a_i, a GRU (gates r, z, n; reset after the recurrent product) reads
 * [E y_{t−1}, z_t] and the words are softmax([s_t, z_t, E y_{t−1}] W_out + b_out). Step 0 reads \`startToken\`, later
 * steps the argmax of the step before (greedy decoding).
 */
class ShowAttendTell extends tf.layers.Layer {
  static className = 'ShowAttendTell';
  private w: Record<string, tf.LayerVariable> = {};
  constructor(readonly args: { steps: number; vocab: number; embedding: number; units: number; attentionUnits: number; startToken: number; name?: string }) {
    super({ name: args.name });
  }
  override build(inputShape: (number | null)[]): void {
    const c = inputShape[3] as number;
    const { vocab: v, embedding: e, units: u, attentionUnits: a } = this.args;
    const shapes: [string, number[]][] = [
      ['positions', [(inputShape[1] as number) * (inputShape[2] as number), c]],
      ['init_kernel', [c, u]], ['init_bias', [u]], ['embedding', [v, e]], ['key_kernel', [c, a]], ['key_bias', [a]],
      ['query_kernel', [u, a]], ['score_vector', [a, 1]], ['input_kernel', [e + c, 3 * u]], ['recurrent_kernel', [u, 3 * u]],
      ['input_bias', [3 * u]], ['recurrent_bias', [3 * u]], ['output_kernel', [u + c + e, v]], ['output_bias', [v]],
    ];
    for (const [name, shape] of shapes)
      this.w[name] = this.addWeight(name, shape, 'float32', shape.length === 2 ? tf.initializers.glorotUniform({}) : tf.initializers.zeros());
    this.built = true;
  }
  override computeOutputShape(inputShape: (number | null)[]): (number | null)[][] {
    const [b, h, w] = inputShape;
    return [[b, this.args.steps, this.args.vocab], [b, this.args.steps, h, w]];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const grid = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const [b, h, w, c] = grid.shape;
      const { steps, units: u } = this.args;
      const W = (k: string) => this.w[k].read();
      const annotations = tf.add(tf.reshape(grid, [b, h * w, c]), W('positions'));
      const keys = tf.add(tf.reshape(tf.matMul(tf.reshape(annotations, [b * h * w, c]), W('key_kernel')), [b, h * w, -1]), W('key_bias'));
      let state = tf.tanh(tf.add(tf.matMul(tf.mean(annotations, 1), W('init_kernel')), W('init_bias')));
      let word: tf.Tensor = tf.fill([b], this.args.startToken, 'int32');
      const words: tf.Tensor[] = [];
      const alphas: tf.Tensor[] = [];
      for (let t = 0; t < steps; t++) {
        const query = tf.expandDims(tf.matMul(state, W('query_kernel')), 1);
        const scores = tf.reshape(tf.matMul(tf.reshape(tf.tanh(tf.add(keys, query)), [b * h * w, -1]), W('score_vector')), [b, h * w]);
        const alpha = tf.softmax(scores);
        const context = tf.squeeze(tf.matMul(tf.expandDims(alpha, 1), annotations), [1]);
        const embedded = tf.matMul(tf.oneHot(word, this.args.vocab), W('embedding'));
        const gx = tf.add(tf.matMul(tf.concat([embedded, context], 1), W('input_kernel')), W('input_bias'));
        const gh = tf.add(tf.matMul(state, W('recurrent_kernel')), W('recurrent_bias'));
        const [xr, xz, xn] = tf.split(gx, [u, u, u], 1);
        const [hr, hz, hn] = tf.split(gh, [u, u, u], 1);
        const r = tf.sigmoid(tf.add(xr, hr));
        const z = tf.sigmoid(tf.add(xz, hz));
        state = tf.add(tf.mul(tf.sub(1, z), tf.tanh(tf.add(xn, tf.mul(r, hn)))), tf.mul(z, state));
        const logits = tf.add(tf.matMul(tf.concat([state, context, embedded], 1), W('output_kernel')), W('output_bias'));
        words.push(tf.softmax(logits));
        alphas.push(alpha);
        word = tf.cast(tf.argMax(logits, 1), 'int32');
      }
      return [tf.stack(words, 1), tf.reshape(tf.stack(alphas, 1), [b, steps, h, w])];
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    const { name: _name, ...rest } = this.args;
    return { ...super.getConfig(), ...rest };
  }
}
tf.serialization.registerClass(ShowAttendTell);`,
};
