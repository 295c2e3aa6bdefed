// Reading graph files from disk: parse, migrate, analyse. Never throws on a bad file.
import { readFile, stat } from 'node:fs/promises';
import { analyzeGraph, type AnalyzeOptions, type GraphAnalysis } from './analyze.js';
import { lineColumn, parseGraphText } from '../graph/schema.js';
import type { Diagnostic, GraphFile } from '../graph/types.js';

/** Larger than any graph a person draws (the biggest template is ~100 KB); a bigger file is refused unread. */
export const MAX_GRAPH_FILE_BYTES = 64 * 2 ** 20;

export interface LoadedGraph {
  file: string;
  graph?: GraphFile;
  analysis?: GraphAnalysis;
  diagnostics: Diagnostic[];
}

export async function loadGraphFile(file: string, opts: AnalyzeOptions = {}): Promise<LoadedGraph> {
  let bytes: Buffer;
  try {
    bytes = await readLimited(file, MAX_GRAPH_FILE_BYTES);
  } catch (err) {
    if (err instanceof Refused) return { file, diagnostics: [{ severity: 'error', message: `cannot read ${file}: ${err.message}` }] };
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    return { file, diagnostics: [{ severity: 'error', message: `cannot read ${file}: ${why}` }] };
  }
  const text = decodeUtf8(bytes);
  if (typeof text !== 'string')
    return { file, diagnostics: [{ severity: 'error', message: `cannot read ${file}: ${text.problem}`, line: text.line, column: text.column }] };
  const parsed = parseGraphText(text, opts);
  if (!parsed.graph) return { file, diagnostics: parsed.diagnostics };
  const analysis = analyzeGraph(parsed.graph, undefined, opts);
  return { file, graph: parsed.graph, analysis, diagnostics: analysis.diagnostics };
}

/** The text of a UTF-8 file, or where it stops being UTF-8 (a file saved in another encoding, or not text at all). */
export function decodeUtf8(bytes: Uint8Array): string | { problem: string; line: number; column: number } {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const lenient = new TextDecoder('utf-8').decode(bytes);
    const at = lineColumn(lenient, Math.max(0, lenient.indexOf('\ufffd')));
    return { problem: `it is not UTF-8 text (the first invalid byte is at line ${at.line}, column ${at.column}); save it as UTF-8`, ...at };
  }
}

/** A file refused before reading: its message says why. */
class Refused extends Error {}

/** The file's bytes; refuses, unread, a file over `max` and anything but a regular file (a FIFO would block forever). */
async function readLimited(file: string, max: number): Promise<Buffer> {
  const st = await stat(file);
  if (st.isDirectory()) throw Object.assign(new Error('it is a folder'), { code: 'EISDIR' });
  if (!st.isFile()) throw new Refused('it is not a regular file');
  if (st.size > max) throw new Refused(`it is ${(st.size / 2 ** 20).toFixed(0)} MB; a graph file is at most ${max / 2 ** 20} MB`);
  return readFile(file);
}
