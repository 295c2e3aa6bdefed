// Where the installed app's files are: this module compiles to dist/electron/, two levels below the root.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RENDERER_DIR = path.join(APP_ROOT, 'dist', 'app');
export const TEMPLATES_DIR = path.join(APP_ROOT, 'templates');
export const APP_VERSION: string = (JSON.parse(readFileSync(path.join(APP_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
