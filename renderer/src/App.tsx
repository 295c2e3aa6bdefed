// The editor window: toolbar, palette, canvas, inspector, summary.
import { useEffect } from 'react';
import { ReactFlowProvider } from '@xyflow/react';
import { GraphCanvas } from './canvas/GraphCanvas.js';
import { Palette } from './palette/Palette.js';
import { Inspector } from './inspector/Inspector.js';
import { BottomPanel } from './panels/BottomPanel.js';
import { Dialogs } from './panels/Dialogs.js';
import { TemplateGallery } from './gallery/Gallery.js';
import { ExportDialog } from './export/ExportDialog.js';
import { RecoveryBanner, StatusBar, Toasts, TopBar } from './panels/Chrome.js';
import { editor, useUi } from './editor.js';
import { runCommand } from './commands.js';
import { listenForShortcuts } from './shortcutKeys.js';
import { followInput } from './inputWindow.js';
import { startAutosave } from './files.js';
import { host } from './host/host.js';
import { listenForClipboard } from './clipboardEvents.js';
import { GraphLockBanner, TrainingDock, useDock } from './training/TrainingDock.js';

/** Keys, clipboard, menu commands, the unsaved-work prompt and autosave. */
function useGlobalWiring() {
  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (!editor.getState().isDirty()) return;
      e.preventDefault();
      e.returnValue = '';
    };
    const stopKeys = listenForShortcuts(window);
    const stopFollowing = followInput(window);
    const stopClipboard = listenForClipboard(window);
    window.addEventListener('beforeunload', onBeforeUnload);
    const stopAutosave = startAutosave();
    const stopMenu = host?.onEvent((ev) => {
      if (ev.channel === 'menu') void runCommand(ev.command, ev.arg);
    });
    return () => {
      stopKeys();
      stopFollowing();
      stopClipboard();
      window.removeEventListener('beforeunload', onBeforeUnload);
      stopAutosave();
      stopMenu?.();
    };
  }, []);
}

export function App() {
  useGlobalWiring();
  const panels = useUi((s) => s.panels);
  const dockOpen = useDock((s) => s.open && !s.detached);
  return (
    <ReactFlowProvider>
      <div className={`app${panels.palette ? '' : ' no-palette'}${panels.inspector ? '' : ' no-inspector'}${panels.summary ? '' : ' no-summary'}`}>
        <TopBar />
        <RecoveryBanner />
        {panels.palette && <Palette />}
        <main className="center">
          <GraphLockBanner />
          <GraphCanvas />
          {panels.summary && !dockOpen && <BottomPanel />}
          <TrainingDock />
        </main>
        {panels.inspector && <Inspector />}
        <StatusBar />
        <Dialogs />
        <TemplateGallery />
        <ExportDialog />
        <Toasts />
      </div>
    </ReactFlowProvider>
  );
}
