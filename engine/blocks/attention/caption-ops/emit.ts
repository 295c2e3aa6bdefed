// Export helpers of the caption decoder: the PyTorch and Keras classes live in
// engine/export/{torch,keras}/caption_attention.py; the tfjs layer is the engine's
// own (show-attend-tell-layer.ts), copied in by engine/export/tfjs-sources.ts.
import { kerasHelper, tfjsHelper, torchHelper } from '../../emit/torch-helper.js';

export const TORCH_SHOW_ATTEND_TELL = torchHelper('ShowAttendTell', 'caption_attention.py');

export const KERAS_SHOW_ATTEND_TELL = kerasHelper('ShowAttendTell', 'caption_attention.py');

export const TS_SHOW_ATTEND_TELL = tfjsHelper('showAttendTellLayer', 'attention/caption-ops/show-attend-tell-layer.ts');
