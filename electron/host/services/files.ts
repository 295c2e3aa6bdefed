// Graph files on disk: open, save, save as, list a folder, and check a graph in memory.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Diagnostic, FileEntry, FileListing, GraphLoad, GraphWrite, HostRequestParsed } from '../../../common/host-api/api.js';
import { loadGraphFile } from '../../../engine/shapes/load.js';
import { serializeGraph } from '../../../engine/graph/schema.js';
import { writeAtomic } from '../../../engine/runs/index.js';
import type { Dialogs } from '../options.js';
import { GRAPH_EXT, graphName, PathError, type PathPolicy } from '../paths.js';
import { checkGraph } from './graph-check.js';
import type { RecentFiles } from './recent.js';

export class FileService {
  constructor(
    private readonly paths: PathPolicy,
    private readonly recent: RecentFiles,
    private readonly dialogs?: Dialogs,
  ) {}

  async openFile({ path: p }: HostRequestParsed<'openFile'>): Promise<GraphLoad | null> {
    if (p === undefined) {
      if (!this.dialogs) throw new Error('no file dialog in browser mode: pass a path (see listFiles)');
      const chosen = await this.dialogs.openGraph();
      if (chosen === null) return null;
      return this.readGraph({ path: chosen });
    }
    return this.readGraph({ path: p });
  }

  async readGraph({ path: p }: HostRequestParsed<'readGraph'>): Promise<GraphLoad> {
    const abs = await this.paths.resolve(p, 'read');
    const shown = this.paths.show(abs);
    const r = await loadGraphFile(abs);
    // loadGraphFile names the absolute path in "cannot read" messages; show the renderer's path instead.
    const diagnostics = r.diagnostics.map((d) => ({ ...d, message: d.message.split(abs).join(shown) }));
    if (r.graph) await this.recent.remember(abs);
    // A recent file that is gone (moved, deleted) leaves Open Recent.
    else if (!(await stat(abs).catch(() => null))) await this.recent.forget(abs);
    return { path: shown, name: graphName(abs), graph: r.graph, diagnostics };
  }

  async writeGraph({ path: p, graph }: HostRequestParsed<'writeGraph'>): Promise<GraphWrite> {
    const abs = await this.paths.resolve(p, 'write');
    const shown = this.paths.show(abs);
    const checked = checkGraph(graph);
    // Schema errors mean the editor holds something that is not a graph: refuse. Semantic
    // errors (an unconnected input, a shape mismatch) are work in progress: save it.
    if (!checked.graph) return { path: shown, written: false, diagnostics: checked.diagnostics };
    await writeAtomic(abs, serializeGraph(checked.graph));
    await this.recent.remember(abs);
    return { path: shown, written: true, diagnostics: checked.diagnostics };
  }

  saveFile(req: HostRequestParsed<'saveFile'>): Promise<GraphWrite> {
    return this.writeGraph(req);
  }

  async saveFileAs({ graph, path: p, suggestedName }: HostRequestParsed<'saveFileAs'>): Promise<GraphWrite | null> {
    let target = p;
    if (target === undefined) {
      if (!this.dialogs) throw new Error('no file dialog in browser mode: pass a path');
      const base = (suggestedName || graph.name || 'untitled').replace(/[\\/:*?"<>|]+/g, '_');
      target = (await this.dialogs.saveGraph(base.endsWith(GRAPH_EXT) ? base : `${base}${GRAPH_EXT}`)) ?? undefined;
      if (target === undefined) return null;
    }
    if (!target.endsWith(GRAPH_EXT)) target += GRAPH_EXT;
    return this.writeGraph({ path: target, graph });
  }

  async listFiles({ dir }: HostRequestParsed<'listFiles'>): Promise<FileListing> {
    const { paths } = this;
    const start = dir ?? paths.workspace;
    if (start === undefined) throw new Error('listFiles needs a folder in the desktop app');
    const abs = await paths.resolve(start, 'list');
    const items = await readdir(abs, { withFileTypes: true });
    const entries: FileEntry[] = [];
    for (const it of items) {
      if (it.name.startsWith('.')) continue;
      const full = path.join(abs, it.name);
      const kind = it.isDirectory() ? 'dir' : it.isFile() && it.name.endsWith(GRAPH_EXT) ? 'file' : undefined;
      if (!kind) continue;
      const mtimeMs = kind === 'file' ? (await stat(full)).mtimeMs : undefined;
      entries.push({ name: it.name, path: paths.show(full), kind, mtimeMs });
    }
    entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
    const parentAbs = path.dirname(abs);
    let parent: string | undefined;
    if (parentAbs !== abs)
      try {
        parent = paths.show(await paths.resolve(paths.workspace ? paths.show(parentAbs) : parentAbs, 'list'));
      } catch (err) {
        if (!(err instanceof PathError)) throw err;
      }
    return { dir: paths.show(abs), parent, entries };
  }

  async checkGraph({ graph }: HostRequestParsed<'checkGraph'>): Promise<{ diagnostics: Diagnostic[] }> {
    return { diagnostics: checkGraph(graph).diagnostics };
  }
}
