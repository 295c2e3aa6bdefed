// Sweeps: many trainings of one graph over a grid or random sample of block
// parameters and training settings, each trial a run folder under the sweep
// folder, ranked by one metric (see manifest.ts for the folder's layout and
// params.ts for the --param syntax).
export { EARLY_STOP_DEFAULTS, EARLY_STOP_RULES, shouldStop, type EarlyStopOptions, type EarlyStopRule } from './early-stop.js';
export {
  FINISHED,
  goalOf,
  ranking,
  readManifest,
  SWEEP_FILE,
  SweepFileError,
  type SweepManifest,
  type SweepSpec,
  type TrialRecord,
  type TrialStatus,
} from './manifest.js';
export {
  applyToGraph,
  checkParams,
  DEFAULT_GRID_POINTS,
  describeValues,
  parseParam,
  parseParams,
  SweepParamError,
  type Domain,
  type ParamValue,
  type SweepParam,
} from './params.js';
export { Sweep, type SweepEvent, type SweepOptions } from './run.js';
export { gridSize, MAX_GRID, STRATEGIES, trialValues, type Strategy } from './strategy.js';
