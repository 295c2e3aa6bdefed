// Which exported models train with teacher forcing: those with a caption decoder,
// whose layer reads the batch's labels in training (the app's trainer hands them
// over as `targets`). Their Keras and TypeScript training loops hand the labels over
// too; PyTorch's runtime.train() does it for every model (its _teach hook).
import type { CodeHelper } from '../blocks/contract.js';
import { kerasHelper } from '../blocks/emit/torch-helper.js';
import { KERAS_SHOW_ATTEND_TELL, TS_SHOW_ATTEND_TELL } from '../blocks/attention/caption-ops/emit.js';

const READ_LABELS: readonly CodeHelper[] = [KERAS_SHOW_ATTEND_TELL, TS_SHOW_ATTEND_TELL];

/** Whether an export's helpers hold a layer that reads the labels in training. */
export const readsLabels = (helpers: readonly CodeHelper[]): boolean =>
  helpers.some((h) => READ_LABELS.some((r) => r.name === h.name && r.source === h.source));

/** The Keras model that trains a captioner with teacher forcing (engine/export/keras/caption_attention.py). */
export const KERAS_TEACHER_FORCING = kerasHelper('TeacherForcing', 'caption_attention.py');
