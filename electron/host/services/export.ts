// Code export: a sound graph to the files of one export format (the shell's exporter runs it off-thread),
// with the fine-tuning the Training form sets laid over the graph's own training settings.
import type { ExportResult, HostRequestParsed } from '../../../common/host-api/api.js';
import type { Exporter } from '../options.js';
import { soundGraph } from './graph-check.js';
import { withFineTuning } from '../../../engine/export/fine-tune-settings.js';

export class ExportService {
  constructor(private readonly exporter?: Exporter) {}

  async exportCode({ graph, target, fineTuning }: HostRequestParsed<'exportCode'>): Promise<ExportResult> {
    if (!this.exporter) throw new Error('code export is not available in this build');
    const checked = soundGraph(graph);
    if (!checked.graph) return { target, files: [], diagnostics: checked.diagnostics };
    const exported = fineTuning ? withFineTuning(checked.graph, fineTuning) : checked.graph;
    return { target, files: await this.exporter(exported, target), diagnostics: checked.diagnostics };
  }
}
