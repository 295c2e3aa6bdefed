// Reading the files a dataset names, which may be anything: only regular files
// are read. A FIFO named x.png would block the read forever (and hold one of
// libuv's few pool threads while it waits), a device could be endless, and a
// folder named x.csv cannot be read at all. The file is opened without blocking
// and checked on its descriptor, so it cannot be swapped between check and read.
import { constants } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';

/** Larger files are refused: a dataset file this size is a mistake, not data. */
export const MAX_DATA_FILE_BYTES = 256 * 2 ** 20;

const mib = (n: number) => `${(n / 2 ** 20).toFixed(n < 2 ** 20 ? 2 : 0)} MiB`;

/** Whether a path (after symlinks) is a regular file; a FIFO, socket, device or folder is not. */
export async function isRegularFile(file: string): Promise<boolean> {
  const info = await stat(file).catch(() => lstat(file).catch(() => undefined));
  return info?.isFile() ?? false;
}

/** The bytes of a regular file of at most `maxBytes`, or an error that names the file. */
export async function readRegularFile(file: string, maxBytes = MAX_DATA_FILE_BYTES): Promise<Buffer> {
  let fh;
  try {
    // O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer.
    fh = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const info = await fh.stat();
    if (!info.isFile()) throw new Error(`${file} is not a regular file (${kindOf(info)}); only regular files are read`);
    if (info.size > maxBytes) throw new Error(`${file} is ${mib(info.size)}; dataset files of at most ${mib(maxBytes)} are read`);
    // Only the size seen: a file that grows meanwhile cannot make us read more.
    const buf = Buffer.alloc(info.size);
    let at = 0;
    while (at < buf.length) {
      const { bytesRead } = await fh.read(buf, at, buf.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return buf.subarray(0, at);
  } finally {
    await fh.close();
  }
}

function kindOf(info: import('node:fs').Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a file';
}
