// Shared set-up for the host tests: a throwaway workspace, state and templates folder.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GRAPH_FORMAT, GRAPH_VERSION } from '../engine/graph/schema.js';
import type { GraphFile } from '../engine/graph/types.js';
import { absolutePaths, workspacePaths } from '../electron/host/paths.js';
import { HostService, type HostServiceOptions } from '../electron/host/service.js';

/** Input(4) -> Dense(3) -> Output: valid, tiny. */
export function tinyGraph(name = 'tiny'): GraphFile {
  return {
    format: GRAPH_FORMAT,
    version: GRAPH_VERSION,
    name,
    nodes: [
      { id: 'x', type: 'io.input', params: { kind: 'vector', features: 4 }, position: { x: 0, y: 0 } },
      { id: 'fc', type: 'core.dense', params: { units: 3 }, position: { x: 200, y: 0 } },
      { id: 'y', type: 'io.output', params: {}, position: { x: 400, y: 0 } },
    ],
    edges: [
      { from: { node: 'x', port: 'out' }, to: { node: 'fc', port: 'in' } },
      { from: { node: 'fc', port: 'out' }, to: { node: 'y', port: 'in' } },
    ],
  };
}

export interface Sandbox {
  root: string;
  workspace: string;
  service: HostService;
  cleanup(): Promise<void>;
}

export async function sandbox(mode: 'browser' | 'desktop' = 'browser', extra: Partial<HostServiceOptions> = {}): Promise<Sandbox> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'attn-host-'));
  const workspace = path.join(root, 'workspace');
  const templatesDir = path.join(root, 'templates');
  await mkdir(workspace);
  await mkdir(templatesDir);
  await writeFile(path.join(templatesDir, 'tiny.attn.json'), JSON.stringify(tinyGraph('Tiny template')));
  const service = new HostService({
    mode,
    version: '0.0.0-test',
    paths: mode === 'browser' ? await workspacePaths(workspace) : absolutePaths(),
    stateDir: path.join(root, 'state'),
    templatesDir,
    runsDir: path.join(root, 'runs'),
    ...extra,
  });
  return { root, workspace, service, cleanup: () => rm(root, { recursive: true, force: true }) };
}
