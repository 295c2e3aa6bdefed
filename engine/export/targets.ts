// One exporter per target of the registry (engine/blocks/emit/targets.ts), and the
// one rule that names the file it writes: what the CLI and the host both call.
import { EXPORT_FORMATS, type ExportFormat, type ExportTarget } from '../blocks/emit/targets.js';
import type { GraphFile } from '../graph/types.js';
import { exportKeras } from './keras.js';
import { identifier } from './names.js';
import { exportPytorch } from './pytorch.js';
import { exportTfjs } from './tfjs.js';

const EXPORTERS: Record<ExportTarget, (graph: GraphFile) => string> = {
  pytorch: (graph) => exportPytorch(graph).code,
  keras: exportKeras,
  tfjs: exportTfjs,
};

/** The graph as code for one target; throws ExportError when the graph cannot be exported. */
export const exportCode = (graph: GraphFile, target: ExportTarget): string => EXPORTERS[target](graph);

/** The file an export goes to: the graph's name as a Python identifier, plus the format's suffix. */
export const exportFileName = (graphName: string, format: ExportFormat): string =>
  `${identifier(graphName || 'model', 'python')}${EXPORT_FORMATS[format].fileSuffix}`;
