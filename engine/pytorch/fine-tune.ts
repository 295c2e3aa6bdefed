// The fine-tuning settings as the PyTorch worker applies them: by the module's
// own parameter and module names. The export owns the mapping, since the
// exported training script applies the same settings.
export { torchFineTuning, type TorchFineTuning } from '../export/torch-fine-tune.js';
