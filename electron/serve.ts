// `npm run serve`: the editor in a browser. Serves the built renderer and the host
// API on 127.0.0.1 and prints the address to open, which carries a fresh token.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { APP_VERSION, RENDERER_DIR, TEMPLATES_DIR } from './app-root.js';
import { startBrowserServer } from './browser-server.js';
import { workspacePaths } from './host/paths.js';
import { HostService } from './host/service.js';
import { forkTraining, ProcessTrainingDriver } from './host/training.js';
import { InspectionPool } from '../engine/worker/inspect-pool.js';
import { engineExporter } from './host/exporter.js';

const USAGE = `usage: npm run serve -- [--port N] [--workspace DIR] [--state DIR] [--runs DIR]
  --port       port on 127.0.0.1 (default: a free one)
  --workspace  folder the editor may open and save graphs in (default: the current folder)
  --state      where recent files and the recovery file go (default: ~/.attention-studio)
  --runs       where training runs are written (default: <state>/runs)`;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        workspace: { type: 'string', default: process.cwd() },
        state: { type: 'string', default: path.join(os.homedir(), '.attention-studio') },
        runs: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) return console.log(USAGE);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a port number, got "${values.port}"\n${USAGE}`);
    process.exit(2);
  }
  const stateDir = path.resolve(values.state);
  const runsDir = path.resolve(values.runs ?? path.join(stateDir, 'runs'));
  await mkdir(stateDir, { recursive: true });

  const inspections = new InspectionPool();
  const service = new HostService({
    mode: 'browser',
    version: APP_VERSION,
    paths: await workspacePaths(path.resolve(values.workspace)),
    stateDir,
    templatesDir: TEMPLATES_DIR,
    runsDir,
    training: new ProcessTrainingDriver(forkTraining),
    inspect: (cmd) => inspections.inspect(cmd),
    exporter: engineExporter,
  });
  const token = randomBytes(24).toString('base64url');
  const server = await startBrowserServer({ service, staticDir: RENDERER_DIR, token, port });
  console.log(`Attention Studio ${APP_VERSION} (browser mode)`);
  console.log(`  workspace: ${path.resolve(values.workspace)}`);
  console.log(`  open: ${server.url}`);
  console.log('Only a page opened at this address (it carries the token) reaches your files. Ctrl+C stops the server.');

  const shutdown = async () => {
    await server.close();
    inspections.dispose();
    await service.dispose();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

await main();
