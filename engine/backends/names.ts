// The tfjs backends a run can ask for, best first. A module of its own (no
// Node imports) so that the host API's schemas, which the renderer loads too,
// can name them.
export const BACKEND_ORDER = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_ORDER)[number];
/** What a run may ask for: a backend, or the best one that loads. */
export const BACKEND_OPTIONS = ['auto', ...BACKEND_ORDER] as const;
export type BackendOption = (typeof BACKEND_OPTIONS)[number];
/** What a training run may ask for: a tfjs option, or `pytorch` (the user's torch; never chosen by `auto`). */
export const TRAINING_BACKEND_OPTIONS = [...BACKEND_OPTIONS, 'pytorch'] as const;
export type TrainingBackendOption = (typeof TRAINING_BACKEND_OPTIONS)[number];
