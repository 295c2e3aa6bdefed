// Reading graph files from disk: parse, migrate, analyse. Never throws on a bad file.
import { readFile } from 'node:fs/promises';
import { analyzeGraph, type GraphAnalysis } from './analyze.js';
import { parseGraphText } from './schema.js';
import type { Diagnostic, GraphFile } from './types.js';

export interface LoadedGraph {
  file: string;
  graph?: GraphFile;
  analysis?: GraphAnalysis;
  diagnostics: Diagnostic[];
}

export async function loadGraphFile(file: string): Promise<LoadedGraph> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    return { file, diagnostics: [{ severity: 'error', message: `cannot read ${file}: ${why}` }] };
  }
  const parsed = parseGraphText(text);
  if (!parsed.graph) return { file, diagnostics: parsed.diagnostics };
  const analysis = analyzeGraph(parsed.graph);
  return { file, graph: parsed.graph, analysis, diagnostics: analysis.diagnostics };
}
