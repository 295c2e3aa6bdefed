// Teacher forcing in an exported tfjs model's training: tfjs's fit() hands its layers
// only `training`, so a caption decoder trained by fit() would read its own greedy
// words. This loop calls the model with each batch's labels as `targets`, as
// Attention Studio's trainer does (engine/train/shard-gradients.ts), so that step t
// reads the true word t - 1. The TypeScript exporter copies this file below its
// imports into exports whose decoder reads the labels (engine/export/tfjs.ts), and
// tsc checks it here with the project's settings.
import * as tf from '@tensorflow/tfjs';

const LOG_EPSILON = 1e-7;

/**
 * Labels as int32 class ids [n, ...positions] (-1: no label): one-hot rows (labels at the output's rank, the last
 * axis its classes) by their argmax, a zero row -1; ids, with or without a last axis of 1, as they are.
 */
function classIds(y: tf.Tensor, outputRank: number): tf.Tensor {
  if (y.rank !== outputRank || y.shape[y.rank - 1] === 1) return tf.cast(y, 'int32');
  return tf.tidy(() => tf.where(tf.greater(tf.sum(y, -1), 0), tf.argMax(y, -1), tf.fill(y.shape.slice(0, -1), -1, 'int32')));
}

/** The mean cross-entropy of probabilities [..., classes] over the positions of `ids` [...] that hold a label. */
function labelledCrossEntropy(probs: tf.Tensor, ids: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = probs.shape[probs.rank - 1];
    const flat = tf.reshape(ids, [-1]) as tf.Tensor1D;
    const logProbs = tf.log(tf.clipByValue(tf.reshape(probs, [-1, classes]), LOG_EPSILON, 1 - LOG_EPSILON));
    const picked = tf.sum(tf.mul(tf.oneHot(flat, classes), logProbs), -1);
    const mask = tf.cast(tf.greaterEqual(flat, 0), 'float32');
    return tf.div(tf.neg(tf.sum(tf.mul(picked, mask))), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

/** The share of the positions of `ids` that hold a label where the most likely class is that label. */
function labelledAccuracy(probs: tf.Tensor, ids: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const flat = tf.reshape(ids, [-1]);
    const predicted = tf.argMax(tf.reshape(probs, [-1, probs.shape[probs.rank - 1]]), -1);
    const mask = tf.cast(tf.greaterEqual(flat, 0), 'float32');
    const hits = tf.mul(tf.cast(tf.equal(predicted, tf.cast(flat, 'int32')), 'float32'), mask);
    return tf.div(tf.sum(hits), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

const firstOutput = (out: tf.Tensor | tf.Tensor[]) => (Array.isArray(out) ? out[0] : out);

/**
 * Trains a compiled `model` (its optimizer is used, and evaluate() works after) on inputs `xs` and its first
 * output's labels `ys[0]` (class ids [n, steps], -1 where the caption has ended, or one-hot rows), each batch
 * handed to the layers as `targets`: teacher forcing. The loss is the cross-entropy over labelled positions, as
 * the app's trainer computes it. With `validationData`, each epoch also logs `val_loss` and `val_acc` of greedy
 * decoding (the model on its own, as after training), over the labelled positions alone, as the app validates.
 */
export async function fitTeacherForced(
  model: tf.LayersModel,
  xs: tf.Tensor[],
  ys: tf.Tensor[],
  epochs: number,
  batchSize: number,
  validationData?: [tf.Tensor[], tf.Tensor[]],
): Promise<tf.History> {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const outputRank = model.outputs[0].shape.length;
  const labels = classIds(ys[0], outputRank);
  const validation = validationData && { x: validationData[0], ids: classIds(validationData[1][0], outputRank) };
  const n = xs[0].shape[0];
  const history = new tf.History();
  await history.onTrainBegin();
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = tf.util.createShuffledIndices(n);
      let total = 0;
      let steps = 0;
      for (let at = 0; at < n; at += batchSize) {
        const rows = tf.tensor1d(Array.from(order.subarray(at, at + batchSize)), 'int32');
        const x = xs.map((t) => tf.gather(t, rows));
        const targets = tf.gather(labels, rows);
        const loss = model.optimizer.minimize(
          () => labelledCrossEntropy(firstOutput(model.apply(x.length === 1 ? x[0] : x, { training: true, targets }) as tf.Tensor | tf.Tensor[]), targets),
          true,
          variables,
        )!;
        total += (await loss.data())[0];
        steps++;
        tf.dispose([rows, ...x, targets, loss]);
      }
      const logs: Record<string, number> = { loss: total / Math.max(steps, 1) };
      if (validation) {
        const probs = firstOutput(model.predict(validation.x.length === 1 ? validation.x[0] : validation.x, { batchSize }) as tf.Tensor | tf.Tensor[]);
        const [loss, accuracy] = [labelledCrossEntropy(probs, validation.ids), labelledAccuracy(probs, validation.ids)];
        logs.val_loss = (await loss.data())[0];
        logs.val_acc = (await accuracy.data())[0];
        tf.dispose([probs, loss, accuracy]);
      }
      await history.onEpochEnd(epoch, logs);
    }
  } finally {
    tf.dispose([labels, ...(validation ? [validation.ids] : [])]);
  }
  return history;
}
