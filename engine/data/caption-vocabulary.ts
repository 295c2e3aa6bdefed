// A captioner's words, the class names of the captions dataset it trains on, and the
// word list written beside its exports (<model>.vocabulary.json, as a text model's
// vocabulary is), which the exported decoders read to write words, not ids.
import { captionClasses } from './captions.js';
import type { GraphFile } from '../graph/types.js';
import { RunFolder, RUN_FILES } from '../runs/index.js';

const isCaptioner = (graph: GraphFile) => graph.nodes.some((n) => n.type === 'attention.showAttendTell');

/** A captioner's words from the dataset its run (or a checkpoint of it) trained on; none for other models. */
export async function captionClassesOf(graph: GraphFile, weights: string): Promise<readonly string[] | undefined> {
  if (!isCaptioner(graph)) return undefined;
  const { run } = await RunFolder.forResume(weights);
  const dataset = ((await run.readJson(RUN_FILES.config)) as { dataset?: { name?: string } } | undefined)?.dataset?.name;
  return dataset ? await captionClasses(dataset) : undefined;
}

/** A captioner's words from a captions dataset, by default the one its graph names (its `dataset` section); none for other models or other data. */
export async function graphCaptionClasses(graph: GraphFile, dataset: unknown = graph.dataset?.name): Promise<readonly string[] | undefined> {
  return isCaptioner(graph) && typeof dataset === 'string' ? await captionClasses(dataset) : undefined;
}

/** The word list's file beside an exported model file (model.py -> model.vocabulary.json). */
export const captionVocabularyFile = (modelFile: string): string => `${modelFile.replace(/\.(ts|py)$/, '')}.vocabulary.json`;

/** The word list's text: the words by id. */
export const captionVocabularyText = (words: readonly string[]): string => `${JSON.stringify({ words })}\n`;
