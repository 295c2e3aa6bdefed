// Builds the renderer (React) into dist/app, with relative asset paths so the same
// build loads from the desktop shell and from browser mode. Not dist/renderer: tsc
// puts the renderer modules that the Node tests import there, and this build empties
// its folder.
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { allowInlineScripts } from './dev-csp.js';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The dev server's page allows the inline scripts the dev server adds (hot reload); builds are left alone. */
const devCsp: Plugin = {
  name: 'attn:dev-csp',
  apply: 'serve',
  transformIndexHtml: { order: 'post', handler: allowInlineScripts },
};

export default defineConfig({
  root,
  base: './',
  plugins: [react(), devCsp],
  build: {
    outDir: fileURLToPath(new URL('../dist/app', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1' },
});
