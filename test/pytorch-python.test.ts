// The interpreter a page in browser mode (or `attn train --python`) may name:
// checked before anything runs, then run only with the fixed torch probe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findTorchPython, probePython, resolveInterpreter } from '../engine/pytorch/python.js';
import { PYTHON, skipWithoutTorch } from './helpers/torch.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'attn-pytorch-python-'));

test('an interpreter path that is not an executable regular file named like a Python is refused, naming why', async () => {
  const dir = tmp();
  const missing = path.join(dir, 'python3');
  assert.deepEqual(await resolveInterpreter(missing), { reason: `no Python at ${missing}` });
  assert.deepEqual(await resolveInterpreter('no-such-python-anywhere'), { reason: 'no Python at no-such-python-anywhere (not found on PATH)' });

  const folder = path.join(dir, 'python-folder');
  mkdirSync(folder);
  assert.match(((await resolveInterpreter(folder)) as { reason: string }).reason, /python-folder is not a Python interpreter: .* is not a regular file/);

  const notExecutable = path.join(dir, 'python3.11');
  writeFileSync(notExecutable, '#!/bin/sh\necho hi\n');
  chmodSync(notExecutable, 0o644);
  assert.match(((await resolveInterpreter(notExecutable)) as { reason: string }).reason, /python3\.11 is not a Python interpreter: .* is not executable/);

  // A real executable that is no Python is not even run.
  const marker = path.join(dir, 'ran');
  const other = path.join(dir, 'tool');
  writeFileSync(other, `#!/bin/sh\ntouch ${marker}\n`);
  chmodSync(other, 0o755);
  const refused = await probePython(other);
  assert.ok('reason' in refused);
  assert.match(refused.reason, /tool is not a Python interpreter: its name does not say python \(refused without running it\)/);
  assert.equal(existsSync(marker), false, 'the refused file never ran');
  // …nor through a symlink named python that points at it.
  const disguised = path.join(dir, 'python');
  symlinkSync(other, disguised);
  assert.deepEqual(await resolveInterpreter(disguised), { file: disguised }, 'a link named python to an executable file passes the name check');
});

test('an executable named python that is not one answers the probe with a clear message', async () => {
  const dir = tmp();
  const fake = path.join(dir, 'python3');
  writeFileSync(fake, '#!/bin/sh\necho "I am not Python" >&2\nexit 2\n');
  chmodSync(fake, 0o755);
  const r = await probePython(fake);
  assert.ok('reason' in r);
  assert.equal(r.reason, `${fake} is not a working Python 3 (exit code 2: I am not Python)`);
  await assert.rejects(findTorchPython(fake), /no Python with PyTorch found: .*python3 is not a working Python 3/);
});

test('a real Python with torch passes, by its absolute path, a relative path, a symlink (as a venv has) and a bare name on PATH', async (t) => {
  if (skipWithoutTorch(t, 'probing the Python with torch')) return;
  const dir = tmp();
  const link = path.join(dir, 'python');
  symlinkSync(PYTHON, link);
  const found = await findTorchPython(link);
  assert.equal(found.python, link, 'the link itself runs, not its target: a venv finds its packages from where its python is');
  assert.match(found.torch, /^\d+\.\d+/);
  // A relative path and a bare name on PATH resolve to the same file (checked without running it again).
  assert.deepEqual(await resolveInterpreter(path.relative(process.cwd(), link)), { file: link });
  const saved = process.env.PATH;
  process.env.PATH = `${dir}${path.delimiter}${saved}`;
  try {
    assert.deepEqual(await resolveInterpreter('python'), { file: link });
  } finally {
    process.env.PATH = saved;
  }
});
