// Crash recovery: the editor's graph, written every few seconds, cleared on a clean close.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { HostRequestParsed, Recovery } from '../../../common/host-api/api.js';
import { writeAtomic } from '../../../engine/runs/index.js';
import { readStateJson } from './quiet-fs.js';

export class RecoveryService {
  private readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'recovery.json');
  }

  async writeRecovery({ graph, path: p, dirty }: HostRequestParsed<'writeRecovery'>): Promise<void> {
    // Kept even when the graph has schema problems: losing work is worse than restoring a broken graph.
    const rec: Recovery = { graph, path: p, dirty, savedAt: new Date().toISOString() };
    await writeAtomic(this.file, JSON.stringify(rec));
  }

  async readRecovery(): Promise<Recovery | null> {
    const rec = (await readStateJson(this.file)) as Recovery | undefined;
    return rec && typeof rec === 'object' && rec.graph && typeof rec.graph === 'object' ? rec : null;
  }

  async clearRecovery(): Promise<void> {
    await rm(this.file, { force: true });
  }
}
