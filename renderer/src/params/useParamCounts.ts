// Parameter counts for the summary, from the counting worker. Counts are cached
// by what determines them, so an edit only recounts the nodes it touched.
import { useEffect, useMemo, useReducer, useRef } from 'react';
import type { GraphAnalysis } from '../../../engine/shapes/analyze.js';
import type { GraphFile } from '../../../engine/graph/types.js';
import { countParts, insideParts, sumParts, trainableKey, type CountRequest, type ParamCounts, type WeightCounts } from './count.js';

export type { ParamCounts, WeightCounts };

const results = new Map<string, number | string>();
let worker: Worker | null = null;
const listeners = new Set<() => void>();
const inFlight = new Set<string>();

function getWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL('./count.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<Record<string, number | string>>) => {
      for (const [k, v] of Object.entries(e.data)) {
        results.set(k, v);
        inFlight.delete(k);
      }
      for (const l of listeners) l();
    };
  }
  return worker;
}

/**
 * id -> count (undefined while unknown), of all weights and of the trainable
 * ones; a composite node's count sums the blocks inside it; a node inside a
 * composite's definition, those of every use.
 */
export function useParamCounts(graph: GraphFile, analysis: GraphAnalysis): WeightCounts {
  const [tick, bump] = useReducer((n: number) => n + 1, 0);
  const parts = useMemo(() => countParts(analysis), [analysis]);
  const requests = useMemo(() => new Map([...parts.values()].flat().map((r) => [r.key, r])), [parts]);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => {
    listeners.add(bump);
    return () => void listeners.delete(bump);
  }, []);
  useEffect(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      const missing: CountRequest[] = [];
      for (const r of requests.values()) if (!results.has(r.key) && !inFlight.has(r.key)) missing.push(r);
      if (missing.length === 0) return;
      for (const r of missing) inFlight.add(r.key);
      getWorker().postMessage(missing);
    }, 200);
    return () => clearTimeout(timer.current);
  }, [requests]);
  const inside = useMemo(() => insideParts(analysis), [analysis]);
  return useMemo(() => {
    void tick;
    const counter =
      (keyOf: (key: string) => string): ParamCounts =>
      (id, only, composite) =>
        sumParts(composite === undefined ? parts.get(id) : inside.get(composite)?.get(id), (key) => results.get(keyOf(key)), only);
    return { all: counter((key) => key), trainable: counter(trainableKey) };
  }, [parts, inside, tick]);
}
