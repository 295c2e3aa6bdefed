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

/** 28×28 → avg-pool to 7×7 → conv(4) → squeeze-excitation → head: small enough to train in seconds on the cpu. */
export function tinyMnistGraph(): GraphFile {
  const n = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, params, position: { x: 0, y: 0 } });
  const e = (a: string, ap: string, b: string) => ({ from: { node: a, port: ap }, to: { node: b, port: 'in' } });
  return {
    format: GRAPH_FORMAT,
    version: 1,
    name: 'SE probe net',
    nodes: [
      n('image', 'io.input', { kind: 'image', height: 28, width: 28, channels: 1 }),
      n('pool', 'core.pool2d', { mode: 'avg', size: 4, stride: 4 }),
      n('conv', 'core.conv2d', { filters: 4, kernel: 3, padding: 'same', activation: 'relu' }),
      n('se', 'attention.squeezeExcitation', { reduction: 2 }),
      n('flat', 'core.flatten'),
      n('head', 'core.classificationHead', { classes: 10 }),
      n('label', 'io.output'),
    ],
    edges: [
      e('image', 'out', 'pool'),
      e('pool', 'out', 'conv'),
      e('conv', 'out', 'se'),
      e('se', 'out', 'flat'),
      e('flat', 'out', 'head'),
      e('head', 'probs', 'label'),
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

/** Settings of a sandbox's service: the mode (browser by default) and any other HostService options. */
export type SandboxSettings = Partial<HostServiceOptions> & { mode?: 'browser' | 'desktop' };

/** Runs `body` in a fresh sandbox; its service is disposed and its folder removed whatever happens. */
export async function withSandbox(body: (s: Sandbox) => Promise<void>): Promise<void>;
export async function withSandbox(settings: SandboxSettings, body: (s: Sandbox) => Promise<void>): Promise<void>;
export async function withSandbox(...args: [(s: Sandbox) => Promise<void>] | [SandboxSettings, (s: Sandbox) => Promise<void>]): Promise<void> {
  const [{ mode = 'browser', ...extra }, body] = args.length === 1 ? [{}, args[0]] : args;
  const s = await sandbox(mode, extra);
  try {
    await body(s);
  } finally {
    await s.service.dispose();
    await s.cleanup();
  }
}
