// Which exported models train with teacher forcing: those with a caption decoder,
// whose layer reads the batch's labels in training (the app's trainer hands them
// over as `targets`). Their Keras and TypeScript training loops hand the labels over
// too; PyTorch's runtime.train() does it for every model (its _teach hook). And which
// exports are captioners, whose main() prints validation captions after training.
import type { CodeHelper } from '../blocks/contract.js';
import { kerasHelper } from '../blocks/emit/torch-helper.js';
import { KERAS_SHOW_ATTEND_TELL, TORCH_SHOW_ATTEND_TELL, TS_SHOW_ATTEND_TELL } from '../blocks/attention/caption-ops/emit.js';

const READ_LABELS: readonly CodeHelper[] = [KERAS_SHOW_ATTEND_TELL, TS_SHOW_ATTEND_TELL];
const CAPTION_DECODERS: readonly CodeHelper[] = [...READ_LABELS, TORCH_SHOW_ATTEND_TELL];

const holds = (helpers: Iterable<CodeHelper>, wanted: readonly CodeHelper[]) =>
  [...helpers].some((h) => wanted.some((r) => r.name === h.name && r.source === h.source));

/** Whether an export's helpers hold a layer that reads the labels in training. */
export const readsLabels = (helpers: Iterable<CodeHelper>): boolean => holds(helpers, READ_LABELS);

/** Whether an export's helpers hold a caption decoder, whose main() then prints validation captions after training. */
export const decodesCaptions = (helpers: Iterable<CodeHelper>): boolean => holds(helpers, CAPTION_DECODERS);

/** The Keras model that trains a captioner with teacher forcing (engine/export/keras/caption_attention.py). */
export const KERAS_TEACHER_FORCING = kerasHelper('TeacherForcing', 'caption_attention.py');
