#!/usr/bin/env node
// The `attn` command. The engine is TypeScript compiled to dist/ by `npm run build`
// (run automatically by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/engine/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error('attn: the engine is not built yet. Run `npm run build` in the Attention Studio folder.');
  process.exit(2);
}
// A closed pipe (`attn blocks | head`) is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
