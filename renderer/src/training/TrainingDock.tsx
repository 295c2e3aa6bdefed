// The training dock under the canvas: Training, Attention, Runs and Inspect tabs,
// collapsible, resizable and detachable into a window of its own. While a run is
// live it locks the graph.
import { useEffect, useRef } from 'react';
import { createPortal } from 'react-dom';
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { editor, toast, ui } from '../editor.js';
import { Dialogs } from '../panels/Dialogs.js';
import { Toasts } from '../panels/Chrome.js';
import { followInput } from '../inputWindow.js';
import { listenForClipboard } from '../clipboardEvents.js';
import { rehomeModals } from '../windowModal.js';
import { TemplateGallery } from '../gallery/Gallery.js';
import { openGallery } from '../gallery/galleryState.js';
import { ExportDialog, openExportDialog } from '../export/ExportDialog.js';
import { awayFromCanvas, listenForShortcuts } from '../shortcutKeys.js';
import { AttentionPanels } from '../attention/AttentionPanels.js';
import { attentionView } from '../attention/view.js';
import { InspectPanel } from './InspectPanel.js';
import { RunsPanel } from './RunsPanel.js';
import { TrainingPanel } from './TrainingPanel.js';
import { openDockWindow, type DockWindow } from './dockWindow.js';
import { lockGraph } from './lock.js';
import { AttachIcon, DetachIcon } from '../icons.js';
import { isLive, session, useSession } from './session.js';
import './training.css';

export type DockTab = 'training' | 'attention' | 'runs' | 'inspect';

const HEIGHT_KEY = 'attn.dock.height';
const storedHeight = () => {
  const h = Number(globalThis.localStorage?.getItem(HEIGHT_KEY));
  return Number.isFinite(h) && h >= MIN_HEIGHT ? h : 430;
};
const MIN_HEIGHT = 200;

interface DockState {
  open: boolean;
  tab: DockTab;
  height: number;
  /** The dock's own window while it is detached. */
  detached: DockWindow | null;
}

export const dock = createStore<DockState>()(() => ({ open: false, tab: 'training', height: storedHeight(), detached: null }));
// The size the user dragged to is the size the dock opens at next time.
dock.subscribe((s, prev) => void (s.height !== prev.height && globalThis.localStorage?.setItem(HEIGHT_KEY, String(Math.round(s.height)))));
export const useDock = <T,>(selector: (s: DockState) => T): T => useStore(dock, selector);
export const showDock = (tab: DockTab) => dock.setState({ open: true, tab });

/** Moves the dock into a window of its own (from a click: popups need a user gesture). */
export function detachDock(): void {
  if (dock.getState().detached) return dock.getState().detached!.window.focus();
  let stops: (() => void)[] = [];
  // Closing the window, by the user or by "Attach", brings the dock back, and a dialog open there with it.
  const w = openDockWindow(() => {
    for (const stop of stops) stop();
    if (ui.getState().dialogWindow !== window) ui.setState({ dialogWindow: window });
    rehomeModals(w!.window);
    dock.setState({ detached: null, open: true });
  });
  if (!w) return toast('The browser refused to open the dock window: allow pop-ups for this page', 'error');
  stops = [listenForShortcuts(w.window, awayFromCanvas), listenForClipboard(w.window), followInput(w.window)];
  dock.setState({ detached: w, open: true });
}

export const attachDock = () => dock.getState().detached?.close();

/** Locks the graph for as long as a run is live. */
function useGraphLock(): void {
  const live = useSession((s) => isLive(s));
  useEffect(() => {
    if (!live) return;
    let last = 0;
    return lockGraph(editor, () => {
      // One message per burst of refused edits (a drag refuses many moves).
      if (Date.now() - last > 3000) toast('The graph is locked while a run trains: pause does not unlock it, stop the run to edit.', 'info', 3500);
      last = Date.now();
    });
  }, [live]);
}

export function GraphLockBanner() {
  const live = useSession((s) => isLive(s));
  if (!live) return null;
  return (
    <div className="lock-banner" data-testid="graph-locked">
      Graph locked (read-only) while the run trains
    </div>
  );
}

const TABS: [DockTab, string][] = [
  ['training', 'Training'],
  ['attention', 'Attention'],
  ['runs', 'Runs'],
  ['inspect', 'Inspect'],
];

function DockTabs({ detached }: { detached: boolean }) {
  const { open, tab } = useStore(dock);
  const state = useSession((s) => s.state);
  const snapshots = useSession((s) => s.snapshots.length);
  return (
    <nav className="tabs">
      {TABS.map(([id, label]) => (
        <button key={id} className={open && tab === id ? 'active' : ''} onClick={() => dock.setState({ open: true, tab: id })} data-testid={`dock-tab-${id}`}>
          {label}
          {id === 'training' && state !== 'idle' && <span className={`dot run-state--${state}`} />}
          {id === 'attention' && snapshots > 0 && <span className="badge">{snapshots}</span>}
        </button>
      ))}
      <span className="dock-actions">
        {detached ? (
          <>
            {/* This window has no toolbar: the two dialogs a run's work leads to. */}
            <button onClick={openGallery} title="Start a new graph from a template" data-testid="dock-new-from-template">
              New from template…
            </button>
            <button onClick={openExportDialog} title="Export the graph as code (Ctrl+E)" data-testid="dock-export">
              Export…
            </button>
            <button onClick={attachDock} title="Close this window and put the dock back under the canvas" data-testid="dock-attach">
              Attach <AttachIcon />
            </button>
          </>
        ) : (
          <>
            <button onClick={detachDock} title="Open the dock in a window of its own" data-testid="dock-detach">
              Detach <DetachIcon />
            </button>
            <button onClick={() => dock.setState({ open: !open })} title={open ? 'Collapse' : 'Expand'} data-testid="dock-toggle">
              {open ? '▾' : '▴'}
            </button>
          </>
        )}
      </span>
    </nav>
  );
}

function DockBody() {
  const tab = useDock((s) => s.tab);
  return (
    <div className="training-dock__body">
      {tab === 'training' && <TrainingPanel />}
      {tab === 'attention' && <AttentionPanels />}
      {tab === 'runs' && <RunsPanel onOpened={() => undefined} />}
      {tab === 'inspect' && <InspectPanel />}
    </div>
  );
}

/** While the dock is in its own window: a line saying so, with the way back. */
function DetachedNotice() {
  return (
    <div className="dock-detached" data-testid="dock-detached">
      The dock is in its own window
      <button onClick={() => dock.getState().detached?.window.focus()}>Show it</button>
      <button onClick={attachDock} data-testid="dock-attach-here">
        Attach here
      </button>
    </div>
  );
}

export function TrainingDock() {
  useGraphLock();
  const { open, height, detached } = useStore(dock);
  const drag = useRef<{ y: number; h: number } | null>(null);

  useEffect(
    () =>
      session.subscribe((s, prev) => {
        if (s.runId === prev.runId) return;
        // Another run: the step slider follows its newest snapshot.
        attentionView.setState({ step: null, pinnedByPause: false });
        // Starting a run from elsewhere (a test, the bench) shows it.
        if (s.source === 'live') dock.setState({ open: true });
      }),
    [],
  );

  if (detached)
    return (
      <>
        <DetachedNotice />
        {createPortal(
          <>
            <section className="training-dock open detached" data-testid="training-dock">
              <DockTabs detached />
              <DockBody />
            </section>
            <Dialogs win={detached.window} />
            <TemplateGallery win={detached.window} />
            <ExportDialog win={detached.window} />
            <Toasts />
          </>,
          detached.root,
        )}
      </>
    );

  return (
    <section className={`training-dock${open ? ' open' : ''}`} style={open ? { height } : undefined} data-testid="training-dock">
      {open && (
        <div
          className="training-dock__grip"
          role="separator"
          aria-orientation="horizontal"
          aria-label="Resize the dock"
          title="Drag to resize the dock"
          data-testid="dock-resize"
          onPointerDown={(e) => {
            drag.current = { y: e.clientY, h: height };
            (e.target as HTMLElement).setPointerCapture(e.pointerId);
          }}
          onPointerMove={(e) => {
            if (!drag.current) return;
            const h = Math.min(window.innerHeight - 160, Math.max(MIN_HEIGHT, drag.current.h - (e.clientY - drag.current.y)));
            dock.setState({ height: h });
          }}
          onPointerUp={() => void (drag.current = null)}
        />
      )}
      <DockTabs detached={false} />
      {open && <DockBody />}
    </section>
  );
}
