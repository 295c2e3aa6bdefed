// Checkpoints on disk, whatever wrote them. checkpoints/step-NNNNNN/ holds the
// files the trainer hands over (model.json, weights.bin, ...) and
// checkpoint.json, the manifest: the step, the epoch and every file's size and
// sha256. Reading verifies all of them.
//
// A write is ordered so that a process killed at any moment leaves the folder
// consistent:
//   1. files, then the manifest, into step-N.tmp-<pid>/
//   2. a checkpoint of the same step is moved aside to step-N.old-<pid>/
//   3. step-N.tmp-<pid>/ is renamed to step-N/: from here on it is complete
//   4. latest.json (a hint for people and other tools) via latest.json.tmp
//   5. pruning: older checkpoints are renamed to step-M.del-<pid>/, then removed
//      (before the write too, so that kills never pile up more than keep + 1)
// A checkpoint is complete once its manifest is written, and found under its
// final name. `recover` (run before resuming and before each write) gives a
// complete step-N.tmp-* its name (or puts a step-N.old-* back where its
// replacement never arrived) and removes the rest; the newest checkpoint is
// found by scanning, never by trusting latest.json.
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inside, RUN_FILES, RunFolderError, stepName, stepOf } from './layout.js';
import { writePoint } from './test-pause.js';

export const CHECKPOINT_MANIFEST = 'checkpoint.json';
const FORMAT = 'attn-checkpoint';

export interface CheckpointManifest {
  format: typeof FORMAT;
  version: 1;
  step: number;
  epoch: number;
  files: Record<string, { bytes: number; sha256: string }>;
}

/** A checkpoint read back and verified: its files' bytes by name. */
export interface CheckpointFiles {
  dir: string;
  step: number;
  epoch: number;
  files: Map<string, Buffer>;
  /** A checkpoint written before checkpoints carried checksums: read as it is. */
  unverified?: true;
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
/** What a checkpoint held before checkpoint.json existed. */
const LEGACY_FILES = ['model.json', 'weights.bin', 'optimizer.bin', 'trainer.json'];
const LEFTOVER = /^(step-\d{6,})\.(tmp|old|del)-\d+$/;

async function isDir(p: string): Promise<boolean> {
  return (await lstat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** Complete checkpoints in a checkpoints/ folder, oldest step first. */
export async function listCheckpoints(checkpointsDir: string): Promise<{ name: string; step: number; dir: string }[]> {
  const names = await readdir(checkpointsDir).catch(() => [] as string[]);
  const found = [];
  for (const name of names) {
    const step = stepOf(name);
    const dir = path.join(checkpointsDir, name);
    if (step !== undefined && (await isDir(dir))) found.push({ name, step, dir });
  }
  return found.sort((a, b) => a.step - b.step);
}

/**
 * The newest complete checkpoint in a checkpoints/ folder, or undefined. A
 * latest.json that names anything but a checkpoint of this folder is refused.
 */
export async function newestCheckpoint(checkpointsDir: string): Promise<string | undefined> {
  const latestFile = path.join(checkpointsDir, RUN_FILES.latest);
  const latest = await readFile(latestFile, 'utf8').catch(() => undefined);
  if (latest !== undefined) {
    let named: unknown;
    try {
      named = (JSON.parse(latest) as { checkpoint?: unknown }).checkpoint;
    } catch {
      named = undefined; // unreadable: the scan decides anyway
    }
    if (named !== undefined && (typeof named !== 'string' || stepOf(named) === undefined))
      throw new RunFolderError(`${latestFile} names ${JSON.stringify(named)}, which is not a checkpoint inside ${checkpointsDir}: refused`);
  }
  return (await listCheckpoints(checkpointsDir)).at(-1)?.dir;
}

/**
 * Tidies up after a killed write: a temporary folder that is complete (its
 * manifest verifies) and was not renamed yet becomes its checkpoint; a
 * checkpoint moved aside for a replacement that never arrived goes back;
 * everything else left over is removed.
 */
export async function recover(checkpointsDir: string): Promise<void> {
  const leftovers = (await readdir(checkpointsDir).catch(() => [] as string[])).flatMap((name) => {
    const m = LEFTOVER.exec(name);
    return m ? [{ dir: path.join(checkpointsDir, name), final: path.join(checkpointsDir, m[1]), kind: m[2] }] : [];
  });
  const order = { tmp: 0, old: 1, del: 2 } as Record<string, number>;
  for (const l of leftovers.sort((a, b) => order[a.kind] - order[b.kind])) {
    const keep =
      l.kind !== 'del' &&
      !(await isDir(l.final)) &&
      (l.kind === 'old' ||
        (await readCheckpoint(l.dir, { unverified: false }).then(
          () => true,
          () => false,
        )));
    if (keep) await rename(l.dir, l.final);
    else await rm(l.dir, { recursive: true, force: true });
  }
  await rm(path.join(checkpointsDir, `${RUN_FILES.latest}.tmp`), { force: true });
}

export interface CheckpointWrite {
  step: number;
  epoch: number;
  /** The checkpoint's files by name (plain names, no folders), written in this order. */
  files: [name: string, data: Uint8Array | string][];
  /** Checkpoints kept on disk, this one included; older ones are removed. */
  keep: number;
}

/** Writes a checkpoint (see the order above); resolves with its folder. */
export async function writeCheckpoint(checkpointsDir: string, w: CheckpointWrite): Promise<string> {
  await mkdir(checkpointsDir, { recursive: true });
  await recover(checkpointsDir);
  await prune(checkpointsDir, w.step, w.keep); // a killed write may have left one too many: never more than keep + 1
  const final = path.join(checkpointsDir, stepName(w.step));
  const tmp = `${final}.tmp-${process.pid}`;
  await mkdir(tmp);
  await writePoint('tmp-created');
  const manifest: CheckpointManifest = { format: FORMAT, version: 1, step: w.step, epoch: w.epoch, files: {} };
  for (const [name, data] of w.files) {
    if (name === CHECKPOINT_MANIFEST) throw new Error(`a checkpoint file may not be called ${CHECKPOINT_MANIFEST}`);
    await writeFile(inside(tmp, name, 'a checkpoint file'), data);
    manifest.files[name] = { bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength, sha256: sha256(data) };
    await writePoint('file-written');
  }
  await writePoint('files-written');
  await writeFile(path.join(tmp, CHECKPOINT_MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  await writePoint('manifest-written');
  const old = `${final}.old-${process.pid}`;
  const replacing = await isDir(final);
  if (replacing) {
    await rename(final, old);
    await writePoint('old-moved-aside');
  }
  await rename(tmp, final);
  if (replacing) await rm(old, { recursive: true, force: true });
  await writePoint('renamed');
  const latest = path.join(checkpointsDir, RUN_FILES.latest);
  await writeFile(`${latest}.tmp`, JSON.stringify({ checkpoint: stepName(w.step), step: w.step, epoch: w.epoch }));
  await writePoint('latest-tmp-written');
  await rename(`${latest}.tmp`, latest);
  await writePoint('latest-written');
  await prune(checkpointsDir, w.step, w.keep);
  return final;
}

/**
 * Keeps the `keep` newest checkpoints up to `current` (every one on disk, not
 * only this process's). Checkpoints past `current` are from a continuation
 * that this run rewound (it was continued from an earlier checkpoint): removed.
 */
async function prune(checkpointsDir: string, current: number, keep: number): Promise<void> {
  const all = await listCheckpoints(checkpointsDir);
  const upTo = all.filter((c) => c.step <= current);
  const doomed = [...all.filter((c) => c.step > current), ...upTo.slice(0, Math.max(0, upTo.length - Math.max(1, keep)))];
  for (const c of doomed) {
    const del = `${c.dir}.del-${process.pid}`;
    await rename(c.dir, del);
    await writePoint('prune-moved');
    await rm(del, { recursive: true, force: true });
  }
}

/**
 * Reads a checkpoint and verifies every file against its manifest; a problem is refused with the file named.
 * `unverified: false` refuses a checkpoint from before manifests (see readUnverifiedCheckpoint).
 */
export async function readCheckpoint(dir: string, opts: { unverified?: boolean } = {}): Promise<CheckpointFiles> {
  const manifestFile = path.join(dir, CHECKPOINT_MANIFEST);
  const text = await readFile(manifestFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new RunFolderError(`cannot read ${manifestFile}: ${e.message}`);
  });
  // A folder being written has all its files before its manifest: only a checkpoint under its
  // final name may be one from before manifests (recover never takes a temporary folder as one).
  if (text === undefined) {
    if (opts.unverified === false) throw new RunFolderError(`${dir} is not a complete checkpoint: it has no ${CHECKPOINT_MANIFEST}`);
    return readUnverifiedCheckpoint(dir);
  }
  let m: CheckpointManifest;
  try {
    m = JSON.parse(text) as CheckpointManifest;
  } catch (e) {
    throw new RunFolderError(`${manifestFile} is damaged: ${(e as Error).message}`);
  }
  if (m?.format !== FORMAT || m.version !== 1 || !Number.isInteger(m.step) || !Number.isInteger(m.epoch) || typeof m.files !== 'object' || m.files === null)
    throw new RunFolderError(`${manifestFile} is not a checkpoint manifest (format ${FORMAT}, version 1)`);
  const files = new Map<string, Buffer>();
  for (const [name, want] of Object.entries(m.files)) {
    const file = inside(dir, name, manifestFile);
    const info = await lstat(file).catch(() => undefined);
    if (!info) throw new RunFolderError(`${file} is missing (${CHECKPOINT_MANIFEST} lists it)`);
    if (!info.isFile()) throw new RunFolderError(`${file} is not a plain file (a link or a folder): refused`);
    const data = await readFile(file);
    if (data.byteLength !== want?.bytes)
      throw new RunFolderError(`${file} is damaged: it has ${data.byteLength} bytes, ${CHECKPOINT_MANIFEST} records ${want?.bytes}`);
    if (sha256(data) !== want.sha256) throw new RunFolderError(`${file} is damaged: its sha256 does not match ${CHECKPOINT_MANIFEST}`);
    files.set(name, data);
  }
  return { dir, step: m.step, epoch: m.epoch, files };
}

/**
 * The files of Attention Studio's checkpoints from before they carried a
 * manifest (model.json, weights.bin, optimizer.bin, trainer.json). That writer
 * also renamed a finished temporary folder into place, so such a folder under
 * its final name is complete; its bytes cannot be verified, which the result
 * says (`unverified`). Paths still stay inside the checkpoint, and the tfjs
 * reader still refuses weights of the wrong size.
 */
async function readUnverifiedCheckpoint(dir: string): Promise<CheckpointFiles> {
  const files = new Map<string, Buffer>();
  for (const name of LEGACY_FILES) {
    const file = path.join(dir, name);
    const info = await lstat(file).catch(() => undefined);
    if (!info?.isFile())
      throw new RunFolderError(
        `${dir} is not a complete checkpoint: it has no ${CHECKPOINT_MANIFEST}${info ? '' : ` and no ${name}`} (a checkpoint cut short)`,
      );
    files.set(name, await readFile(file));
  }
  let state: { step?: unknown; epoch?: unknown } | undefined;
  try {
    state = (JSON.parse(files.get('trainer.json')!.toString('utf8')) as { state?: typeof state }).state;
  } catch (e) {
    throw new RunFolderError(`${path.join(dir, 'trainer.json')} is damaged: ${(e as Error).message}`);
  }
  const step = stepOf(path.basename(dir)) ?? (Number.isInteger(state?.step) ? (state!.step as number) : NaN);
  const epoch = Number.isInteger(state?.epoch) ? (state!.epoch as number) : NaN;
  if (!Number.isInteger(step) || !Number.isInteger(epoch))
    throw new RunFolderError(`${path.join(dir, 'trainer.json')} does not say which step and epoch it holds`);
  return { dir, step, epoch, files, unverified: true };
}

/**
 * What `from` names: a run folder (its newest complete checkpoint), its
 * checkpoints/ folder (the same), or one checkpoint. Resolves with the run
 * folder and the checkpoint, or refuses saying what is missing.
 */
export async function locateCheckpoint(from: string): Promise<{ runDir: string; checkpoint: string }> {
  const kind = (await isDir(path.join(from, RUN_FILES.checkpoints)))
    ? 'run'
    : stepOf(path.basename(path.resolve(from))) !== undefined
      ? 'checkpoint'
      : path.basename(path.resolve(from)) === RUN_FILES.checkpoints
        ? 'checkpoints'
        : undefined;
  if (kind === 'checkpoint') {
    if (!(await isDir(from))) throw new RunFolderError(`no checkpoint at ${from}`);
    return { runDir: path.dirname(path.dirname(from)), checkpoint: from };
  }
  if (!kind) throw new RunFolderError(`${from} is not a run folder, a checkpoints folder or a checkpoint`);
  const checkpointsDir = kind === 'run' ? path.join(from, RUN_FILES.checkpoints) : from;
  const checkpoint = await newestCheckpoint(checkpointsDir);
  if (!checkpoint) throw new RunFolderError(`${checkpointsDir} holds no complete checkpoint`);
  return { runDir: path.dirname(checkpointsDir), checkpoint };
}
