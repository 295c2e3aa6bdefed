// File reads where a missing file is an answer, not an error.
import { readFile, stat } from 'node:fs/promises';

/** The file's text, or undefined when there is no such file; other failures throw. */
export async function readTextIfAny(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The host's own state files (recent list, recovery): absent or damaged reads as undefined, never as an error dialog. */
export async function readStateJson(file: string): Promise<unknown> {
  const text = await readTextIfAny(file);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
