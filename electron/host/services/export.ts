// Code export: a sound graph to the files of one export format (the shell's exporter runs it off-thread).
import type { ExportResult, HostRequestParsed } from '../../../common/host-api/api.js';
import type { Exporter } from '../options.js';
import { soundGraph } from './graph-check.js';

export class ExportService {
  constructor(private readonly exporter?: Exporter) {}

  async exportCode({ graph, target }: HostRequestParsed<'exportCode'>): Promise<ExportResult> {
    if (!this.exporter) throw new Error('code export is not available in this build');
    const checked = soundGraph(graph);
    if (!checked.graph) return { target, files: [], diagnostics: checked.diagnostics };
    return { target, files: await this.exporter(checked.graph, target), diagnostics: checked.diagnostics };
  }
}
