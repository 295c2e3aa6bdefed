// The application menu as data. Every item sends a command to the renderer,
// which owns the behaviour and the keyboard map (the same one browser mode
// uses). Accelerators are shown but not registered, so a key is handled once,
// by the page, and text fields keep their own editing keys.
import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand, RecentFile } from '../common/host-api/api.js';

export interface MenuContext {
  platform: NodeJS.Platform;
  appName: string;
  recent: readonly RecentFile[];
  send(command: MenuCommand, arg?: string): void;
  clearRecent(): void;
  /** Adds Reload and the developer tools (npm run dev). */
  dev: boolean;
}

export function menuTemplate(ctx: MenuContext): MenuItemConstructorOptions[] {
  const mac = ctx.platform === 'darwin';
  const item = (label: string, command: MenuCommand, accelerator?: string): MenuItemConstructorOptions => ({
    label,
    accelerator,
    registerAccelerator: false,
    id: command,
    click: () => ctx.send(command),
  });
  const sep: MenuItemConstructorOptions = { type: 'separator' };

  const recent: MenuItemConstructorOptions[] = ctx.recent.length
    ? [
        ...ctx.recent.map((r) => ({ label: r.name, sublabel: r.path, toolTip: r.path, click: () => ctx.send('file.openRecent', r.path) })),
        sep,
        { label: 'Clear Recent', click: () => ctx.clearRecent() },
      ]
    : [{ label: 'No Recent Files', enabled: false }];

  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      item('New', 'file.new', 'CmdOrCtrl+N'),
      item('Open…', 'file.open', 'CmdOrCtrl+O'),
      { label: 'Open Recent', id: 'file.openRecent', submenu: recent },
      sep,
      item('Save', 'file.save', 'CmdOrCtrl+S'),
      item('Save As…', 'file.saveAs', 'CmdOrCtrl+Shift+S'),
      sep,
      item('Export Code…', 'file.export', 'CmdOrCtrl+E'),
      ...(mac ? [] : [sep, { role: 'quit' } as MenuItemConstructorOptions]),
    ],
  };

  const edit: MenuItemConstructorOptions = {
    label: 'Edit',
    submenu: [
      item('Undo', 'edit.undo', 'CmdOrCtrl+Z'),
      item('Redo', 'edit.redo', mac ? 'Cmd+Shift+Z' : 'Ctrl+Y'),
      sep,
      item('Cut', 'edit.cut', 'CmdOrCtrl+X'),
      item('Copy', 'edit.copy', 'CmdOrCtrl+C'),
      item('Paste', 'edit.paste', 'CmdOrCtrl+V'),
      item('Duplicate', 'edit.duplicate', 'CmdOrCtrl+D'),
      item('Delete', 'edit.delete', 'Delete'),
      sep,
      item('Select All', 'edit.selectAll', 'CmdOrCtrl+A'),
    ],
  };

  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      item('Zoom In', 'view.zoomIn', 'CmdOrCtrl+='),
      item('Zoom Out', 'view.zoomOut', 'CmdOrCtrl+-'),
      item('Actual Size', 'view.zoomReset', 'CmdOrCtrl+0'),
      item('Fit Graph', 'view.fit', 'F'),
      sep,
      item('Palette', 'view.togglePalette'),
      item('Inspector', 'view.toggleInspector'),
      item('Model Summary', 'view.toggleSummary'),
      item('Training', 'view.toggleTraining'),
      sep,
      item('Theme: System, Light, Dark', 'view.cycleTheme', 'Shift+K'),
      sep,
      { role: 'togglefullscreen' },
      ...(ctx.dev ? [sep, { role: 'reload' } as MenuItemConstructorOptions, { role: 'toggleDevTools' } as MenuItemConstructorOptions] : []),
    ],
  };

  const help: MenuItemConstructorOptions = {
    role: 'help',
    submenu: [item('Keyboard Shortcuts', 'help.shortcuts', 'F1'), ...(mac ? [] : [sep, item(`About ${ctx.appName}`, 'help.about')])],
  };

  const appMenu: MenuItemConstructorOptions[] = mac
    ? [
        {
          label: ctx.appName,
          submenu: [item(`About ${ctx.appName}`, 'help.about'), sep, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, sep, { role: 'quit' }],
        },
      ]
    : [];
  const windowMenu: MenuItemConstructorOptions[] = mac ? [{ role: 'windowMenu' }] : [];
  return [...appMenu, file, edit, view, ...windowMenu, help];
}
