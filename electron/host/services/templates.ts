// Templates (graph files shipped with the app) and the block catalogue the palette is made from.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BlockInfo, GraphLoad, HostRequestParsed, TemplateInfo } from '../../../common/host-api/api.js';
import { blockInfo } from '../../../engine/blocks/catalogue.js';
import { registry } from '../../../engine/blocks/registry.js';
import { loadGraphFile } from '../../../engine/shapes/load.js';
import { checkGraphSchema } from '../../../engine/graph/schema.js';
import { GRAPH_EXT, graphName } from '../paths.js';

export class TemplateService {
  constructor(private readonly templatesDir: string) {}

  async listTemplates(): Promise<TemplateInfo[]> {
    const dir = this.templatesDir;
    const files = (await readdir(dir)).filter((f) => f.endsWith(GRAPH_EXT)).sort();
    const out: TemplateInfo[] = [];
    for (const f of files) {
      const r = checkGraphSchema(JSON.parse(await readFile(path.join(dir, f), 'utf8')));
      if (!r.graph) continue; // a broken template is the test suite's business, not the palette's
      out.push({ id: graphName(f), name: r.graph.name, description: r.graph.description, nodes: r.graph.nodes.length, edges: r.graph.edges.length });
    }
    return out;
  }

  async loadTemplate({ id }: HostRequestParsed<'loadTemplate'>): Promise<GraphLoad> {
    const file = path.join(this.templatesDir, `${id}${GRAPH_EXT}`);
    const r = await loadGraphFile(file);
    if (r.diagnostics.some((d) => d.message.startsWith(`cannot read ${file}`))) throw new Error(`no template "${id}"`);
    return { path: null, name: r.graph?.name ?? id, graph: r.graph, diagnostics: r.diagnostics };
  }

  async blockCatalogue(): Promise<BlockInfo[]> {
    return registry.all().map((b) => blockInfo(b) as BlockInfo);
  }
}
