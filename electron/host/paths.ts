// Which paths the renderer may name. The desktop app takes absolute paths (the
// user picked them in a dialog); browser mode takes paths relative to one
// workspace folder and never lets them out of it, symlinks included. Either way
// the renderer can only ever write graph files.
import { realpath } from 'node:fs/promises';
import path from 'node:path';

export const GRAPH_EXT = '.attn.json';

/** A graph file's name without its extension (the title bar's, the recent list's, a template's id). */
export const graphName = (file: string) => path.basename(file).replace(/\.attn\.json$|\.json$/, '');

/** read/write: graph files; list: folders; data: a dataset (an image folder or a .csv file). */
export type Purpose = 'read' | 'write' | 'list' | 'data';

export class PathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathError';
  }
}

export interface PathPolicy {
  /** Absolute path for a path from the renderer; throws PathError when it is not allowed. */
  resolve(p: string, purpose: Purpose): Promise<string>;
  /** The path to show the renderer for an absolute path. */
  show(abs: string): string;
  /** Browser mode's workspace, if any. */
  readonly workspace?: string;
}

function checkName(abs: string, purpose: Purpose): void {
  if (purpose === 'write' && !abs.endsWith(GRAPH_EXT)) throw new PathError(`only graph files (*${GRAPH_EXT}) can be written, not ${path.basename(abs)}`);
  if (purpose === 'read' && !abs.endsWith('.json')) throw new PathError(`${path.basename(abs)} is not a graph file (*${GRAPH_EXT})`);
}

/** Desktop: any absolute path the user can reach, graph files only. */
export function absolutePaths(): PathPolicy {
  return {
    async resolve(p, purpose) {
      if (!path.isAbsolute(p)) throw new PathError(`expected an absolute path, got "${p}"`);
      const abs = path.normalize(p);
      checkName(abs, purpose);
      return abs;
    },
    show: (abs) => abs,
  };
}

const inside = (root: string, abs: string) => {
  const rel = path.relative(root, abs);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/** The real path of `abs`, or of its nearest existing ancestor joined with the rest (for files not yet written). */
async function realish(abs: string): Promise<string> {
  const rest: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      return path.join(await realpath(cur), ...rest.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const parent = path.dirname(cur);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === cur) throw err;
      rest.push(path.basename(cur));
      cur = parent;
    }
  }
}

/** Browser mode: paths relative to `workspace`, confined to it. */
export async function workspacePaths(workspace: string): Promise<PathPolicy> {
  const root = await realpath(workspace);
  return {
    workspace: root,
    async resolve(p, purpose) {
      const abs = path.resolve(root, p);
      if (!inside(root, abs)) throw new PathError(`"${p}" is outside the workspace`);
      // A symlink inside the workspace must not lead out of it.
      if (!inside(root, await realish(abs))) throw new PathError(`"${p}" leads outside the workspace`);
      checkName(abs, purpose);
      return abs;
    },
    show: (abs) => path.relative(root, abs).split(path.sep).join('/') || '.',
  };
}
