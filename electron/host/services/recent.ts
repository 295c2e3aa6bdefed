// The recent-files list (Open Recent): a small JSON file in the state folder.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { RecentFile } from '../../../common/host-api/api.js';
import { writeAtomic } from '../../../engine/runs/index.js';
import { graphName, type PathPolicy } from '../paths.js';
import { readStateJson } from './quiet-fs.js';

const MAX_RECENT = 10;

export class RecentFiles {
  private readonly file: string;

  constructor(
    stateDir: string,
    private readonly paths: PathPolicy,
  ) {
    this.file = path.join(stateDir, 'recent.json');
  }

  async recentFiles(): Promise<RecentFile[]> {
    const list = await readStateJson(this.file);
    return Array.isArray(list) ? list.filter((r): r is RecentFile => typeof r?.path === 'string' && typeof r?.name === 'string') : [];
  }

  async clearRecentFiles(): Promise<void> {
    await rm(this.file, { force: true });
  }

  /** Puts a file that was just opened or saved at the top. */
  async remember(abs: string): Promise<void> {
    const shown = this.paths.show(abs);
    const list = (await this.recentFiles()).filter((r) => r.path !== shown);
    list.unshift({ path: shown, name: graphName(abs), openedAt: new Date().toISOString() });
    await writeAtomic(this.file, JSON.stringify(list.slice(0, MAX_RECENT), null, 2));
  }

  /** Drops a file that is gone (moved, deleted). */
  async forget(abs: string): Promise<void> {
    const shown = this.paths.show(abs);
    const list = await this.recentFiles();
    if (list.some((r) => r.path === shown))
      await writeAtomic(
        this.file,
        JSON.stringify(
          list.filter((r) => r.path !== shown),
          null,
          2,
        ),
      );
  }
}
