// The desktop packages carry only their own platform's Dawn addon: the `webgpu`
// package holds one dawn.node folder per platform-arch (20-40 MB each), and
// electron-builder.yml's per-platform `files` exclusions drop the others. Checked
// with electron-builder's own node_modules file matcher and macro expansion, over
// the files actually installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DAWN = path.join(ROOT, 'node_modules', 'webgpu', 'dist');

const require = createRequire(import.meta.url);
// electron-builder reads its YAML with js-yaml; the same parser, from its own dependencies.
const fromBuilder = createRequire(require.resolve('app-builder-lib/package.json'));
const { load } = fromBuilder('js-yaml') as { load(text: string): unknown };
const { getNodeModuleFileMatcher } = fromBuilder('./out/fileMatcher.js') as {
  getNodeModuleFileMatcher(
    appDir: string,
    dest: string,
    expand: (p: string) => string,
    platformOptions: object,
    packager: object,
  ): { createFilter(): (file: string, stat: object) => boolean };
};
const { expandMacro } = fromBuilder('./out/util/macroExpander.js') as { expandMacro(p: string, arch: string | null, appInfo: object, extra: object): string };

interface BuilderConfig {
  files: string[];
  linux: { files?: string[] };
  win: { files?: string[] };
  mac: { files?: string[] };
}

/** The platform-arch folders of dawn.node that electron-builder would copy for one target, as it filters node_modules. */
function dawnFoldersPacked(config: BuilderConfig, key: 'linux' | 'win' | 'mac', arch: string, folders: string[]): string[] {
  // As PlatformPackager.createGetFileMatchersOptions expands macros for the arch it packages.
  const expand = (p: string) => expandMacro(p, arch, {}, { os: key, '/*': '{,/**/*}' });
  const matcher = getNodeModuleFileMatcher(ROOT, '/app', expand, config[key], { config, debugLogger: { isEnabled: false } });
  const keep = matcher.createFilter();
  const stat = (dir: boolean) => ({ isDirectory: () => dir });
  return folders.filter((f) => {
    const folder = path.join(DAWN, f);
    return keep(folder, stat(true)) && keep(path.join(folder, 'dawn.node'), stat(false));
  });
}

test('each desktop package keeps only its own platform and arch of Dawn (webgpu/dist/*/dawn.node)', async (t) => {
  if (!existsSync(DAWN)) {
    console.log(`NOTICE: ${DAWN} is missing (webgpu is optional), so the trimming of Dawn from packages goes unchecked`);
    return t.skip('webgpu is not installed');
  }
  const config = load(await readFile(path.join(ROOT, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
  const folders = (await readdir(DAWN)).sort();
  assert.deepEqual(
    folders,
    ['darwin-universal', 'linux-arm64', 'linux-x64', 'win32-arm64', 'win32-x64'],
    'the webgpu package ships these; a new one needs its own line in electron-builder.yml',
  );
  const targets: Array<['linux' | 'win' | 'mac', string, string]> = [
    ['linux', 'x64', 'linux-x64'],
    ['linux', 'arm64', 'linux-arm64'],
    ['win', 'x64', 'win32-x64'],
    ['win', 'arm64', 'win32-arm64'],
    ['mac', 'x64', 'darwin-universal'],
    ['mac', 'arm64', 'darwin-universal'],
    ['mac', 'universal', 'darwin-universal'],
  ];
  for (const [key, arch, own] of targets) assert.deepEqual(dawnFoldersPacked(config, key, arch, folders), [own], `${key} ${arch}`);
});

test('the rest of the webgpu package and the other native modules are still packed', async () => {
  const config = load(await readFile(path.join(ROOT, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
  const expand = (p: string) => expandMacro(p, 'x64', {}, { os: 'linux', '/*': '{,/**/*}' });
  const keep = getNodeModuleFileMatcher(ROOT, '/app', expand, config.linux, { config, debugLogger: { isEnabled: false } }).createFilter();
  const file = { isDirectory: () => false };
  for (const f of [
    'node_modules/webgpu/index.js',
    'node_modules/webgpu/package.json',
    'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
  ])
    assert.equal(keep(path.join(ROOT, f), file), true, f);
});
