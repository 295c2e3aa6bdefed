// The packaged app's Electron fuses (electron-builder.yml › electronFuses): the
// binary cannot be run as plain Node, take NODE_OPTIONS or --inspect, or load
// app code from anywhere but its integrity-checked asar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const CONFIG = fileURLToPath(new URL('../../electron-builder.yml', import.meta.url));

const WANTED: Record<string, boolean> = {
  runAsNode: false,
  enableCookieEncryption: true,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
};

/** The `key: true|false` lines of one top-level section of a flat YAML file (electron-builder.yml is no deeper here). */
function booleanSection(yaml: string, section: string): Record<string, boolean> {
  const lines = yaml.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trimEnd() === `${section}:`);
  assert.ok(start >= 0, `electron-builder.yml has no top-level "${section}:" section`);
  const out: Record<string, boolean> = {};
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break; // the next top-level key
    const m = /^\s+([A-Za-z]+):\s*(\S+)\s*(#.*)?$/.exec(line);
    if (!m) continue;
    assert.ok(m[2] === 'true' || m[2] === 'false', `${section}.${m[1]} is "${m[2]}", not true or false`);
    out[m[1]] = m[2] === 'true';
  }
  return out;
}

test('electron-builder.yml sets the hardening fuses', async () => {
  const fuses = booleanSection(await readFile(CONFIG, 'utf8'), 'electronFuses');
  assert.deepEqual(fuses, WANTED);
});

test('every fuse key is one electron-builder knows (its configuration schema)', async () => {
  const schemaFile = createRequire(import.meta.url).resolve('app-builder-lib/scheme.json');
  const schema = JSON.parse(await readFile(schemaFile, 'utf8')) as { definitions: Record<string, { properties: Record<string, { type: string }> }> };
  const known = schema.definitions.FuseOptionsV1.properties;
  for (const key of Object.keys(WANTED)) assert.equal(known[key]?.type, 'boolean', `electronFuses.${key} is not in electron-builder's schema`);
});
