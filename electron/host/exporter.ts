// The host's code export: one file per target, named and written by the engine's exporters.
import { exportCode, exportFileName } from '../../engine/export/targets.js';
import type { Exporter } from './service.js';

export const engineExporter: Exporter = async (graph, target) => [{ name: exportFileName(graph.name, target), content: exportCode(graph, target) }];
