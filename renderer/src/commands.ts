// Every editor command, reachable from the keyboard, the toolbar and the
// desktop menu (which sends the same command names through the host).
import type { MenuCommand } from '../../common/host-api/api.js';
import { CLOSE_AFTER_SAVE } from '../../common/host-api/api.js';
import { editor, openDialog, toast, togglePanel, ui } from './editor.js';
import { canvasApi } from './canvas/canvasApi.js';
import { autoLayout } from './canvas/autoLayout.js';
import { groupSelected } from './canvas/CompositeChrome.js';
import { align, distribute, type Alignment, type Axis } from './store/arrange.js';
import { newDocument, openDocument, openRecentFile, saveDocument, saveDocumentAs, showRecentMenu } from './files.js';
import { openExportDialog } from './export/ExportDialog.js';
import { cycleTheme } from './theme.js';

export type Command =
  | MenuCommand
  | 'edit.autoLayout'
  | 'canvas.quickAdd'
  | 'edit.group'
  | 'edit.ungroup'
  | 'edit.bypass'
  | 'edit.alignLeft'
  | 'edit.alignTop'
  | 'edit.alignCenter'
  | 'edit.distributeH'
  | 'edit.distributeV';

export interface Shortcut {
  command: Command;
  keys: string[];
  label: string;
}

/** The one list of shortcuts: the key handler reads it and the Help dialog shows it. */
export const SHORTCUTS: Shortcut[] = [
  { command: 'canvas.quickAdd', keys: ['Space', 'Tab'], label: 'Add a block at the cursor' },
  { command: 'edit.undo', keys: ['Mod+Z'], label: 'Undo' },
  { command: 'edit.redo', keys: ['Mod+Shift+Z', 'Mod+Y'], label: 'Redo' },
  { command: 'edit.cut', keys: ['Mod+X'], label: 'Cut' },
  { command: 'edit.copy', keys: ['Mod+C'], label: 'Copy' },
  { command: 'edit.paste', keys: ['Mod+V'], label: 'Paste (at the cursor)' },
  { command: 'edit.duplicate', keys: ['Mod+D', 'Shift+D'], label: 'Duplicate' },
  { command: 'edit.delete', keys: ['Delete', 'Backspace', 'X'], label: 'Delete the selection' },
  { command: 'edit.selectAll', keys: ['Mod+A'], label: 'Select all' },
  { command: 'edit.autoLayout', keys: ['Shift+L'], label: 'Auto-layout (the selection, or everything)' },
  { command: 'edit.group', keys: ['Mod+G'], label: 'Group the selection into a composite' },
  { command: 'edit.ungroup', keys: ['Mod+Shift+G'], label: 'Ungroup: replace a composite node by its inside' },
  { command: 'edit.bypass', keys: ['Mod+B'], label: 'Bypass the selection (pass the input through), or restore it' },
  { command: 'edit.alignLeft', keys: ['Shift+A'], label: 'Align the selection on the left' },
  { command: 'edit.alignTop', keys: ['Shift+T'], label: 'Align the selection on the top' },
  { command: 'edit.alignCenter', keys: ['Shift+C'], label: 'Align the selection on its vertical centre line' },
  { command: 'edit.distributeH', keys: ['Shift+H'], label: 'Distribute the selection horizontally' },
  { command: 'edit.distributeV', keys: ['Shift+V'], label: 'Distribute the selection vertically' },
  { command: 'view.fit', keys: ['F', 'Home'], label: 'Fit the graph in view' },
  { command: 'view.zoomIn', keys: ['Mod+=', '+'], label: 'Zoom in' },
  { command: 'view.zoomOut', keys: ['Mod+-', '-'], label: 'Zoom out' },
  { command: 'view.zoomReset', keys: ['Mod+0'], label: 'Zoom to 100%' },
  { command: 'view.cycleTheme', keys: ['Shift+K'], label: 'Colour theme: System, Light, Dark in turn' },
  { command: 'file.new', keys: ['Mod+N'], label: 'New graph' },
  { command: 'file.open', keys: ['Mod+O'], label: 'Open…' },
  { command: 'file.save', keys: ['Mod+S'], label: 'Save' },
  { command: 'file.saveAs', keys: ['Mod+Shift+S'], label: 'Save as…' },
  { command: 'file.export', keys: ['Mod+E'], label: 'Export as code…' },
  { command: 'help.shortcuts', keys: ['F1', '?'], label: 'This list' },
];

/** Mouse gestures, listed in Help next to the keys. */
export const GESTURES: [string, string][] = [
  ['Drag on empty canvas', 'Box select'],
  ['Shift/Ctrl + click', 'Add to the selection'],
  ['Middle or right drag, Alt + drag', 'Pan'],
  ['Wheel', 'Zoom'],
  ['Drag from a port to a port', 'Connect (refused with the reason if the shapes cannot match)'],
  ['Drag from the palette, or double-click it', 'Add a block'],
  ['Drop a wire on empty canvas', 'Search the blocks that fit it, and connect the one chosen'],
  ['Right-click the canvas, a node or a wire', 'Context menu (arrow keys, Enter; Esc closes)'],
  ['Ctrl + right-drag across wires', 'Cut them'],
  ['Double-click a composite node (or Enter)', 'Edit its inside'],
  ['Esc inside a composite', 'Back out to where it is used'],
];

export function matches(e: KeyboardEvent, spec: string): boolean {
  const parts = spec.split('+');
  let key = parts.pop()!;
  if (key === '' && spec.endsWith('+')) key = '+'; // the "+" key itself
  const mod = parts.includes('Mod');
  const shift = parts.includes('Shift');
  if (mod !== (e.ctrlKey || e.metaKey) || e.altKey) return false;
  const k = key === 'Space' ? ' ' : key;
  // Shift changes printable keys ("?" is Shift+/): only compare it for letters and named keys.
  const printable = k.length === 1 && !/[a-z]/i.test(k);
  if (!printable && shift !== e.shiftKey) return false;
  return e.key.toLowerCase() === k.toLowerCase();
}

/**
 * Runs a command. `arg` comes with some menu commands: the file for
 * file.openRecent; for file.save, "close" asks to close the window once saved
 * (the desktop app's unsaved-work prompt, Save).
 */
export async function runCommand(command: Command, arg?: string): Promise<void> {
  const s = editor.getState();
  const canvas = canvasApi.current;
  switch (command) {
    case 'file.new':
      return void (await newDocument());
    case 'file.open':
      return void (await openDocument());
    case 'file.openRecent':
      return arg ? openRecentFile(arg) : showRecentMenu();
    case 'file.save':
      if ((await saveDocument()) && arg === CLOSE_AFTER_SAVE) window.close();
      return;
    case 'file.saveAs':
      return void (await saveDocumentAs());
    case 'file.export':
      return openExportDialog();
    case 'edit.undo':
      return s.undo();
    case 'edit.redo':
      return s.redo();
    case 'edit.cut':
      return void s.cut();
    case 'edit.copy':
      return void s.copy();
    case 'edit.paste': {
      const at = canvas?.pointerOverCanvas();
      return void s.paste(undefined, at ? canvas!.toFlow(at) : undefined);
    }
    case 'edit.duplicate':
      return void s.duplicate();
    case 'edit.delete':
      return s.deleteSelection();
    case 'edit.selectAll':
      return s.selectAll();
    case 'edit.autoLayout': {
      const positions = await autoLayout(s.view.graph, s.view.analysis, canvas?.measured ?? new Map(), s.selection.nodes);
      editor.getState().moveNodes(positions);
      if (s.selection.nodes.size < 2) setTimeout(() => canvasApi.current?.frameInputEnd(), 30);
      return;
    }
    case 'edit.group':
      return groupSelected();
    case 'edit.ungroup':
      return ungroupSelected();
    case 'edit.bypass':
      return bypassSelected();
    case 'edit.alignLeft':
      return arrange('left');
    case 'edit.alignTop':
      return arrange('top');
    case 'edit.alignCenter':
      return arrange('centerX');
    case 'edit.distributeH':
      return arrange('horizontal');
    case 'edit.distributeV':
      return arrange('vertical');
    case 'canvas.quickAdd': {
      const at = canvas?.pointerOverCanvas();
      if (at) ui.setState({ quickAdd: { screen: at } });
      return;
    }
    case 'view.fit':
      return canvas?.fit();
    case 'view.zoomIn':
      return canvas?.zoomIn();
    case 'view.zoomOut':
      return canvas?.zoomOut();
    case 'view.zoomReset':
      return canvas?.zoomReset();
    case 'view.cycleTheme':
      return cycleTheme();
    case 'view.togglePalette':
      return togglePanel('palette');
    case 'view.toggleInspector':
      return togglePanel('inspector');
    case 'view.toggleSummary':
    case 'view.toggleTraining':
      return togglePanel('summary');
    case 'help.shortcuts':
    case 'help.about':
      return openDialog({ kind: 'help' });
  }
}

function ungroupSelected(): void {
  const s = editor.getState();
  const composite = [...s.selection.nodes].find((id) => s.view.graph.nodes.find((n) => n.id === id)?.type.startsWith('composite:'));
  if (!composite) return toast('Cannot ungroup: select a composite node', 'error');
  const r = s.ungroup(composite);
  if (!r.ok) toast(`Cannot ungroup: ${r.reason}`, 'error');
}

function bypassSelected(): void {
  const r = editor.getState().toggleBypass(editor.getState().selection.nodes);
  if (!r.ok) toast(`Bypass refused: ${r.reason}`, 'error', 7000);
}

/** Aligns or distributes the selected nodes, as one undo step. */
function arrange(how: Alignment | Axis): void {
  const s = editor.getState();
  const sizes = canvasApi.current?.measured ?? new Map();
  const positions =
    how === 'horizontal' || how === 'vertical' ? distribute(s.view.graph, s.selection.nodes, how, sizes) : align(s.view.graph, s.selection.nodes, how, sizes);
  if (Object.keys(positions).length === 0) return toast(`Select at least ${how === 'horizontal' || how === 'vertical' ? 3 : 2} nodes`, 'error');
  s.moveNodes(positions);
}
