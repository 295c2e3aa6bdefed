// What each context menu offers: on the canvas, on a node (or the selection
// it belongs to), on a wire. Each item runs the same command as its key.
import { editor, ui, type MenuTarget } from '../editor.js';
import { runCommand, type Command } from '../commands.js';
import { canvasApi } from './canvasApi.js';
import type { XY } from '../store/document.js';

export interface MenuItem {
  id: string;
  label: string;
  /** The shortcut shown beside it. */
  keys?: string;
  disabled?: boolean;
  /** Rename: the menu turns into a text field with this value, and `rename` gets the result. */
  rename?: { value: string; apply(text: string): void };
  run?(): void;
}

export type MenuEntry = MenuItem | 'separator';

const command = (id: string, label: string, cmd: Command, keys?: string, disabled?: boolean): MenuItem => ({
  id,
  label,
  keys,
  disabled,
  run: () => void runCommand(cmd),
});

function arrangeItems(): MenuEntry[] {
  const n = editor.getState().selection.nodes.size;
  if (n < 2) return [];
  return [
    'separator',
    command('align-left', 'Align left', 'edit.alignLeft', 'Shift+A'),
    command('align-top', 'Align top', 'edit.alignTop', 'Shift+T'),
    command('align-center', 'Align centres', 'edit.alignCenter', 'Shift+C'),
    command('distribute-h', 'Distribute horizontally', 'edit.distributeH', 'Shift+H', n < 3),
    command('distribute-v', 'Distribute vertically', 'edit.distributeV', 'Shift+V', n < 3),
  ];
}

function canvasItems(screen: XY): MenuEntry[] {
  const s = editor.getState();
  const at = () => canvasApi.current?.toFlow(screen);
  return [
    { id: 'add-block', label: 'Add block here…', keys: 'Space', run: () => ui.setState({ quickAdd: { screen } }) },
    { id: 'paste', label: 'Paste here', keys: 'Ctrl+V', disabled: !s.clipboard, run: () => void editor.getState().paste(undefined, at()) },
    { id: 'add-comment', label: 'Add comment here', run: () => void editor.getState().addComment(at() ?? { x: 0, y: 0 }) },
    'separator',
    command('select-all', 'Select all', 'edit.selectAll', 'Ctrl+A'),
    command('auto-layout', 'Auto-layout', 'edit.autoLayout', 'Shift+L'),
    ...arrangeItems(),
  ];
}

function nodeItems(id: string): MenuEntry[] {
  const s = editor.getState();
  const node = s.view.graph.nodes.find((n) => n.id === id);
  if (!node) return [];
  const composite = node.type.startsWith('composite:');
  const info = s.view.analysis.nodes.get(id);
  return [
    {
      id: 'rename',
      label: 'Rename…',
      rename: { value: node.label ?? info?.block.label ?? node.type, apply: (text) => editor.getState().setLabel(id, text) },
    },
    command('duplicate', 'Duplicate', 'edit.duplicate', 'Ctrl+D'),
    command('delete', 'Delete', 'edit.delete', 'Del'),
    command('bypass', node.bypass ? 'Restore (end bypass)' : 'Bypass', 'edit.bypass', 'Ctrl+B'),
    'separator',
    command('group', 'Group into composite', 'edit.group', 'Ctrl+G'),
    ...(composite
      ? [
          command('ungroup', 'Ungroup', 'edit.ungroup', 'Ctrl+Shift+G'),
          { id: 'open-composite', label: 'Open composite', keys: 'Enter', run: () => void editor.getState().enterComposite({ node: id }) },
        ]
      : []),
    ...arrangeItems(),
  ];
}

function edgeItems(id: string, screen: XY): MenuEntry[] {
  return [
    { id: 'delete-wire', label: 'Delete wire', run: () => editor.getState().deleteElements([], [id]) },
    {
      id: 'insert-reroute',
      label: 'Insert reroute point',
      run: () => void editor.getState().addReroute(id, canvasApi.current?.toFlow(screen) ?? { x: 0, y: 0 }),
    },
  ];
}

export function menuEntries(target: MenuTarget, screen: XY): MenuEntry[] {
  if (target.kind === 'node') return nodeItems(target.id);
  if (target.kind === 'edge') return edgeItems(target.id, screen);
  return canvasItems(screen);
}
