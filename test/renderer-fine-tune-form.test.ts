// The Training form's fine-tuning fields as a run's settings: what the schema takes, and a bad multiplier named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultForm, fineTuneConfig, parseLrMultipliers, startRequest } from '../renderer/src/training/form.js';
import { trainConfigSchema } from '../engine/schemas/train-config.js';
import { tinyCnn } from './train-fixtures.js';

test('fine-tuning fields become freeze, lrMultipliers, head, initWeights and the ImageNet preset', () => {
  const f = {
    ...defaultForm(),
    dataset: 'import',
    importPath: 'data/pets',
    freeze: 'stem, stage1  stage2',
    lrMultipliers: 'stage3=0.1, head=2',
    newHead: true,
    initWeights: '20261206T200000-rn-weights',
    imagenet: true,
  };
  const req = startRequest(f, tinyCnn());
  const config = trainConfigSchema.parse(req.config);
  assert.deepEqual(config.freeze, ['stem', 'stage1', 'stage2']);
  assert.deepEqual(config.lrMultipliers, { stage3: 0.1, head: 2 });
  assert.deepEqual(config.head, {});
  assert.equal(config.initWeights, '20261206T200000-rn-weights');
  assert.equal(req.dataset.normalize, 'imagenet');
  assert.deepEqual(fineTuneConfig(defaultForm()), {}, 'nothing set, nothing sent');
  assert.throws(() => parseLrMultipliers('stage3=fast'), /learning-rate multiplier "stage3=fast": write node=number/);
  assert.throws(() => parseLrMultipliers('stage3=-1'), /"stage3=-1"/);
});
