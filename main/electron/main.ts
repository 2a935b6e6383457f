/**
 * LeanLens's Electron main process: a thin shell over the core `App` (main/app.ts).
 * It owns the window, the `app://` protocol for the UI, the `photo://` protocol for images, the
 * IPC wiring derived from the contract, the native menu and the single-instance lock.
 * Every security decision lives in a pure module beside it (security.ts, photo-url.ts,
 * ipc-calls.ts, app-files.ts) with unit tests; this file only plugs them into Electron.
 * This folder is the only code in the project that imports 'electron'.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeTheme, net, protocol, screen, session, shell } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createApp } from '../app/index.ts';
import type { App } from '../app/index.ts';
import { AppError, callNames, eventNames, parseArgs, type EventName, type Settings } from '../core/contract.ts';
import { resolveAppFile } from './app-files.ts';
import { utilityProcessLauncher } from './encoder-launcher.ts';
import { startLocalSocket } from '../server/local-socket.ts';
import { bridgeArgument, callChannel, EVENT_CHANNEL, type EventMessage } from './bridge-spec.ts';
import { answerCall } from './ipc-calls.ts';
import { menuTemplate } from './menu.ts';
import { parsePhotoUrl } from './photo-url.ts';
import { APP_PAGE_URL, APP_SCHEME, contentSecurityPolicy, externalLinkDecision, PHOTO_SCHEME, secureWebPreferences } from './security.ts';
import { loadWindowState, saveWindowState } from './window-state.ts';

const here = dirname(fileURLToPath(import.meta.url)); // dist/electron in the build
const rendererDir = join(here, '..', 'renderer');
const preloadPath = join(here, '..', 'preload', 'index.cjs');
const isDev = !app.isPackaged;
const WEBSITE = 'https://github.com/leanlens/leanlens';

// Both schemes must be declared before `ready`. `standard` gives app:// a real origin (so CSP
// 'self' means the app's files only, and module scripts load); `secure` avoids mixed content.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  { scheme: PHOTO_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);
app.enableSandbox();

// LEANLENS_DATA moves everything — library, Chromium's profile, window state and the
// single-instance lock (which is per userData folder) — so a second library or a test run is
// fully separate from the user's.
if (process.env.LEANLENS_DATA) app.setPath('userData', process.env.LEANLENS_DATA);

if (!app.requestSingleInstanceLock()) {
  // Another LeanLens owns this data folder; it gets focused through 'second-instance'.
  app.quit();
} else {
  start();
}

function start(): void {
  let mainWindow: BrowserWindow | null = null;
  const dataDir = app.getPath('userData');
  const windowStateFile = join(app.getPath('userData'), 'window-state.json');

  // Native code (ONNX Runtime) cannot read files inside app.asar, so packaged models are unpacked.
  const modelsDir = app.isPackaged ? join(process.resourcesPath, 'app.asar.unpacked', 'models') : undefined;

  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
  });

  // Every webContents (including any a bug might create) gets the same navigation rules.
  app.on('web-contents-created', (_e, contents) => {
    contents.setWindowOpenHandler(({ url }) => {
      if (externalLinkDecision(url) === 'open-in-browser') void shell.openExternal(url);
      return { action: 'deny' };
    });
    contents.on('will-navigate', (event, url) => {
      event.preventDefault();
      if (externalLinkDecision(url) === 'open-in-browser') void shell.openExternal(url);
    });
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });

  // Started at once so the window can show while the database and indexes open; IPC calls wait for it.
  const core: Promise<App> = app.whenReady().then(() =>
    createApp({
      dataDir,
      modelsDir,
      live: true,
      command: 'the desktop app',
      // The encoder runs as a utilityProcess: a native crash in ONNX Runtime cannot take the app down.
      encoderLauncher: utilityProcessLauncher,
      shell: {
        openPath: async (path) => {
          const problem = await shell.openPath(path);
          if (problem) throw new AppError('failed', problem);
        },
        showItemInFolder: (path) => shell.showItemInFolder(path),
      },
    }),
  );

  for (const name of callNames) {
    ipcMain.handle(callChannel(name), (event, raw: unknown) => answerCall(core, name, event.senderFrame?.url, raw));
  }

  // While the app runs, `leanlens status/search/similar` ask it over <data>/leanlens.sock instead of
  // loading the model a second time.
  const localSocket = core.then((c) => startLocalSocket(c)).catch((err) => {
    console.warn('leanlens: the local socket for the CLI could not start', err);
    return null;
  });

  void app.whenReady().then(async () => {
    const ses = session.defaultSession;
    ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    ses.setPermissionCheckHandler(() => false);
    ses.setDevicePermissionHandler(() => false);

    ses.protocol.handle(APP_SCHEME, serveAppFile);
    ses.protocol.handle(PHOTO_SCHEME, async (request) => servePhoto(await core, request.url));

    mainWindow = createWindow();
    buildMenu('system');

    let running: App;
    try {
      running = await core;
    } catch (err) {
      dialog.showErrorBox('LeanLens could not start', err instanceof Error ? err.message : String(err));
      app.exit(1);
      return;
    }
    for (const event of eventNames) running.on(event, (payload) => broadcast(event, payload));
    try {
      const settings = await running['settings.get']({});
      nativeTheme.themeSource = settings.theme;
      buildMenu(settings.theme);
    } catch {
      // Settings unreadable: keep following the OS.
    }
  });

  app.on('activate', () => {
    // macOS: clicking the dock icon with no window open opens one again.
    if (BrowserWindow.getAllWindows().length === 0 && app.isReady()) mainWindow = createWindow();
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  // Close the core (flush the database, stop watchers and the encoder process) before exiting.
  let closed = false;
  let closing = false;
  app.on('before-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    if (closing) return;
    closing = true;
    localSocket
      .then((s) => (s?.ok ? s.socket.close() : undefined))
      .then(() => core)
      .then((c) => c.close())
      .catch((err) => console.error('leanlens: error while closing', err))
      .finally(() => {
        closed = true;
        app.quit();
      });
  });

  function createWindow(): BrowserWindow {
    const workAreas = screen.getAllDisplays().map((d) => d.workArea);
    const state = loadWindowState(windowStateFile, workAreas);
    const win = new BrowserWindow({
      width: state.width,
      height: state.height,
      x: state.x,
      y: state.y,
      minWidth: 720,
      minHeight: 480,
      show: false,
      title: 'LeanLens',
      backgroundColor: nativeTheme.shouldUseDarkColors ? '#16171a' : '#f7f7f8',
      webPreferences: secureWebPreferences(preloadPath, [bridgeArgument()]),
    });
    if (state.maximized) win.maximize();
    win.once('ready-to-show', () => win.show());
    win.on('close', () => {
      try {
        const b = win.getNormalBounds();
        saveWindowState(windowStateFile, { ...b, maximized: win.isMaximized() });
      } catch (err) {
        console.error('leanlens: could not save the window state', err);
      }
    });
    win.on('closed', () => {
      if (mainWindow === win) mainWindow = null;
    });
    void win.loadURL(APP_PAGE_URL);
    return win;
  }

  function broadcast(event: EventName, payload: unknown): void {
    const message: EventMessage = { event, payload };
    for (const win of BrowserWindow.getAllWindows()) {
      if (!win.isDestroyed() && !win.webContents.isDestroyed()) win.webContents.send(EVENT_CHANNEL, message);
    }
  }

  function buildMenu(theme: Settings['theme']): void {
    const template = menuTemplate(
      {
        addFolder: () => void addFolders(),
        setTheme: (t) => void setTheme(t),
        about: () => showAbout(),
        openWebsite: () => {
          if (externalLinkDecision(WEBSITE) === 'open-in-browser') void shell.openExternal(WEBSITE);
        },
      },
      { isMac: process.platform === 'darwin', isDev, theme },
    );
    Menu.setApplicationMenu(Menu.buildFromTemplate(template));
  }

  async function addFolders(): Promise<void> {
    const opts = { title: 'Add a photo folder', properties: ['openDirectory', 'multiSelections'] as ('openDirectory' | 'multiSelections')[] };
    const picked = mainWindow ? await dialog.showOpenDialog(mainWindow, opts) : await dialog.showOpenDialog(opts);
    if (picked.canceled) return;
    const running = await core;
    for (const path of picked.filePaths) {
      try {
        await running['folders.add'](parseArgs('folders.add', { path }));
      } catch (err) {
        dialog.showErrorBox('Could not add the folder', `${path}\n\n${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  async function setTheme(theme: Settings['theme']): Promise<void> {
    nativeTheme.themeSource = theme;
    buildMenu(theme);
    try {
      await (await core)['settings.set']({ theme });
    } catch (err) {
      console.error('leanlens: could not save the theme', err);
    }
  }

  function showAbout(): void {
    const detail = `Version ${app.getVersion()}\nPrivate, local semantic photo search.\nElectron ${process.versions.electron} · Node ${process.versions.node}`;
    if (mainWindow) void dialog.showMessageBox(mainWindow, { type: 'info', title: 'About LeanLens', message: 'LeanLens', detail });
    else void dialog.showMessageBox({ type: 'info', title: 'About LeanLens', message: 'LeanLens', detail });
  }
}

/** `app://leanlens/...` → a file of the built renderer, always with the CSP header. */
async function serveAppFile(request: Request): Promise<Response> {
  const found = resolveAppFile(request.url, rendererDir);
  if (!found.ok) return plain(found.status, found.status === 404 ? 'not found' : 'bad request');
  const file = await net.fetch(pathToFileURL(found.path).toString());
  if (!file.ok) return plain(404, 'not found');
  return new Response(file.body, {
    status: 200,
    headers: {
      'Content-Type': found.contentType,
      'Content-Security-Policy': contentSecurityPolicy(),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
    },
  });
}

/** `photo://thumbnail/<id>` and `photo://original/<id>` → the library file behind that id, nothing else. */
async function servePhoto(core: App, url: string): Promise<Response> {
  const req = parsePhotoUrl(url);
  if (!req.ok) return plain(req.status, req.reason);
  try {
    const photo = await core.photoFile(req.id, req.kind);
    const file = await net.fetch(pathToFileURL(photo.path).toString());
    if (!file.ok) return plain(404, 'not found');
    return new Response(file.body, {
      status: 200,
      headers: { 'Content-Type': photo.contentType, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' },
    });
  } catch (err) {
    if (err instanceof AppError && (err.code === 'not-found' || err.code === 'invalid-argument')) return plain(404, 'not found');
    console.error('leanlens: photo request failed', err);
    return plain(500, 'could not read the photo');
  }
}

function plain(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' } });
}
