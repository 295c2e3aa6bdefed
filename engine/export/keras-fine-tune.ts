// The fine-tuning settings (freeze, frozenBatchNorm, lrMultipliers) in an
// exported Keras file: layer names (the compiled tfjs model's, which the Keras
// export keeps) and apply_fine_tuning(), which train() calls before compiling.
// Keras has no learning rate per variable, so the multipliers are listed with a
// comment saying they are not applied.
import { isFrozen, lrMultiplierOf, type FineTuning } from '../graph/fine-tune-patterns.js';
import { stringLiteral } from './names.js';
import { byPrefix } from './prefix-groups.js';
import type { PlannedNode } from './plan.js';
import { pyValue } from '../blocks/emit/format.js';

/** The names the block below defines in the exported module. */
export const KERAS_FINE_TUNING_NAMES = ['FINE_TUNING', 'LR_MULTIPLIERS', 'apply_fine_tuning'];

const APPLY = `def apply_fine_tuning(model, fine_tuning=FINE_TUNING):
    """Freezes the layers that FINE_TUNING names (call it before model.compile())."""
    def frozen(name):
        return any(name == p or name.startswith(p + "_") for p in fine_tuning["frozen"])

    for layer in model.layers:
        if not frozen(layer.name):
            continue
        if fine_tuning["batchNormInference"]:
            # Not trainable: no updates, and Keras runs a BatchNormalization layer that is not trainable in inference mode.
            layer.trainable = False
        else:
            # Only the variables: BatchNormalization keeps normalising with the batch's statistics and updating its moving ones.
            for variable in layer.trainable_variables:
                variable.trainable = False`;

/** The lines that define FINE_TUNING, LR_MULTIPLIERS and apply_fine_tuning(); none where the settings freeze nothing and scale no rate. */
export function kerasFineTuningSource(nodes: readonly Pick<PlannedNode, 'id' | 'layer'>[], c: FineTuning): string[] {
  const layers = nodes.map((n) => n.layer);
  const keyOf = new Map(nodes.map((n) => [n.layer, n.id]));
  const frozen = byPrefix(layers, (l) => (isFrozen(keyOf.get(l)!, c) ? true : undefined), '_').map(([p]) => p);
  const multipliers = byPrefix(
    layers,
    (l) => {
      const m = lrMultiplierOf(keyOf.get(l)!, c.lrMultipliers);
      return m !== 1 && m !== 0 ? m : undefined;
    },
    '_',
  );
  if (!frozen.length && !multipliers.length) return [];
  const list = frozen.length ? `[\n${frozen.map((p) => `        ${stringLiteral(p)},\n`).join('')}    ]` : '[]';
  return [
    "# Fine-tuning: the training settings' freeze and frozenBatchNorm by layer name (a name stands for the layer of",
    '# that name and those named NAME_*). train() applies them with apply_fine_tuning() before compiling.',
    'FINE_TUNING = {',
    `    "frozen": ${list},`,
    `    "batchNormInference": ${c.frozenBatchNorm === 'inference' ? 'True' : 'False'},`,
    '}',
    ...(multipliers.length
      ? [
          "# The graph's lrMultipliers, by layer name. Keras has no learning rate per variable (an optimizer has one rate),",
          '# so they are NOT applied here: these layers train at the base rate. The app and the PyTorch export apply them.',
          `LR_MULTIPLIERS = {${multipliers.map(([p, m]) => `${stringLiteral(p)}: ${pyValue(m)}`).join(', ')}}`,
        ]
      : []),
    '',
    '',
    APPLY,
  ];
}
