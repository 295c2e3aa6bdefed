// How the attention panels look: which maps are tiled, which probe sample and
// which snapshot step they show, the colour map and scale. View state only:
// never saved, never undone.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { ColormapName } from './colormaps.js';
import type { ScaleMode } from './scale.js';

/** A panel shows the maps of the selected node, one attention output (`node.port`), the probes' explanation, or a captioning model's captions. */
export type PanelSource = { follow: 'selection' } | { key: string } | { explanation: true } | { caption: true };

export const EXPLANATION_SOURCE = { explanation: true } as const;
export const CAPTION_SOURCE = { caption: true } as const;

export interface PanelState {
  id: number;
  source: PanelSource;
  sort: 'index' | 'value';
  topK: number;
}

export interface AttentionViewState {
  panels: PanelState[];
  sample: number;
  /** The snapshot step shown; null follows the newest. */
  step: number | null;
  /** The step was pinned because the run paused (unpinned on resume). */
  pinnedByPause: boolean;
  colormap: ColormapName;
  opacity: number;
  /** One scale for every map of a kind (the default: a uniform map looks uniform), or each map stretched over its own range. */
  scale: ScaleMode;
}

let nextId = 1;
const panel = (source: PanelSource): PanelState => ({ id: nextId++, source, sort: 'index', topK: 8 });

export const attentionView = createStore<AttentionViewState>()(() => ({
  panels: [panel({ follow: 'selection' }), panel(EXPLANATION_SOURCE), panel(CAPTION_SOURCE)],
  sample: 0,
  step: null,
  pinnedByPause: false,
  colormap: 'inferno',
  opacity: 0.6,
  scale: 'shared',
}));

export function useAttentionView<T>(selector: (s: AttentionViewState) => T): T {
  return useStore(attentionView, selector);
}

export function addPanel(source: PanelSource = { follow: 'selection' }): void {
  attentionView.setState((s) => ({ panels: [...s.panels, panel(source)] }));
}

export function removePanel(id: number): void {
  attentionView.setState((s) => ({ panels: s.panels.filter((p) => p.id !== id) }));
}

export function updatePanel(id: number, patch: Partial<Omit<PanelState, 'id'>>): void {
  attentionView.setState((s) => ({ panels: s.panels.map((p) => (p.id === id ? { ...p, ...patch } : p)) }));
}

/** Panels for every attention output of a run (and its explanation and captions), replacing the ones that follow nothing in particular. */
export function tileAll(keys: string[], explanation = false, caption = false): void {
  attentionView.setState({
    panels: [...(caption ? [panel(CAPTION_SOURCE)] : []), ...(explanation ? [panel(EXPLANATION_SOURCE)] : []), ...keys.map((key) => panel({ key }))],
  });
}
