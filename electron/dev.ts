// `npm run dev`: the Vite dev server (hot reload of the renderer) and Electron
// pointed at it. Main-process changes need a restart (Ctrl+C, run again).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { APP_ROOT } from './app-root.js';

const require = createRequire(import.meta.url);

function electronBinary(): string {
  try {
    return require('electron') as string; // in Node, the package exports the binary's path
  } catch (err) {
    console.error(`Electron is not installed (${(err as Error).message.split('\n')[0]}).`);
    console.error('Install it without ELECTRON_SKIP_BINARY_DOWNLOAD, or use `npm run serve` for the browser mode.');
    process.exit(1);
  }
}

const bin = electronBinary();
const { createServer } = await import('vite');
const vite = await createServer({ configFile: path.join(APP_ROOT, 'renderer', 'vite.config.ts') });
await vite.listen();
const url = vite.resolvedUrls?.local[0];
if (!url) throw new Error('the Vite dev server did not report its address');
console.log(`renderer dev server: ${url}`);

const child = spawn(bin, [path.join(APP_ROOT, 'dist', 'electron', 'main.js')], { stdio: 'inherit', env: { ...process.env, ATTN_DEV_URL: url } });
child.on('exit', (code) => {
  void vite.close().then(() => process.exit(code ?? 0));
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => child.kill(sig));
