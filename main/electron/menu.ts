/**
 * The native menu, as a template built from plain callbacks so its shape is unit-tested without
 * Electron (only Electron's *types* are imported here; nothing runs from 'electron').
 */
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  addFolder(): void;
  setTheme(theme: 'system' | 'light' | 'dark'): void;
  about(): void;
  openWebsite(): void;
}

export interface MenuOptions {
  isMac: boolean;
  /** Reload and developer tools only in development builds. */
  isDev: boolean;
  theme: 'system' | 'light' | 'dark';
}

export function menuTemplate(actions: MenuActions, opts: MenuOptions): MenuItemConstructorOptions[] {
  const themeItem = (theme: 'system' | 'light' | 'dark', label: string): MenuItemConstructorOptions => ({
    label,
    type: 'radio',
    checked: opts.theme === theme,
    click: () => actions.setTheme(theme),
  });
  const view: MenuItemConstructorOptions[] = [
    ...(opts.isDev
      ? ([{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, { type: 'separator' }] as MenuItemConstructorOptions[])
      : []),
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { label: 'Theme', submenu: [themeItem('system', 'Follow System'), themeItem('light', 'Light'), themeItem('dark', 'Dark')] },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  ];
  return [
    ...(opts.isMac ? ([{ role: 'appMenu' }] as MenuItemConstructorOptions[]) : []),
    {
      label: 'File',
      submenu: [
        { label: 'Add Folder…', accelerator: 'CmdOrCtrl+O', click: () => actions.addFolder() },
        { type: 'separator' },
        opts.isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { label: 'View', submenu: view },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: 'About LeanLens', click: () => actions.about() },
        { label: 'LeanLens Website', click: () => actions.openWebsite() },
      ],
    },
  ];
}
