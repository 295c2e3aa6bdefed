// The export targets: the one vocabulary the block contract (a block's emitters),
// the exporters, the CLI (`attn export --to`), the host API and the Export dialog
// share. Pure data, so the renderer can list the targets without loading an exporter.

export interface ExportTargetInfo {
  /** What the Export dialog and the CLI's help call it. */
  label: string;
  /** The language of the code (for names and highlighting). */
  language: 'python' | 'typescript';
  /** Appended to the graph's name to make the file's name (`model_torch.py`). */
  fileSuffix: string;
}

export const EXPORT_TARGETS = {
  pytorch: { label: 'PyTorch', language: 'python', fileSuffix: '_torch.py' },
  keras: { label: 'Keras', language: 'python', fileSuffix: '_keras.py' },
  tfjs: { label: 'TypeScript (tfjs)', language: 'typescript', fileSuffix: '.ts' },
} as const satisfies Record<string, ExportTargetInfo>;

export type ExportTarget = keyof typeof EXPORT_TARGETS;
/** The targets in the order the Export dialog offers them. */
export const EXPORT_TARGET_IDS = Object.keys(EXPORT_TARGETS) as [ExportTarget, ...ExportTarget[]];

/**
 * What the CLI, the host and the Export dialog can write: every code target, and
 * ONNX (a binary file, made from the PyTorch export by a Python with torch).
 */
export const EXPORT_FORMATS = {
  ...EXPORT_TARGETS,
  onnx: { label: 'ONNX', language: 'binary', fileSuffix: '.onnx' },
} as const satisfies Record<string, Omit<ExportTargetInfo, 'language'> & { language: ExportTargetInfo['language'] | 'binary' }>;

export type ExportFormat = keyof typeof EXPORT_FORMATS;
export const EXPORT_FORMAT_IDS = Object.keys(EXPORT_FORMATS) as [ExportFormat, ...ExportFormat[]];
