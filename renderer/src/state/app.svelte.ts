/**
 * What every view shares: the route, folders, indexing progress, models, settings and theme,
 * kept current by pushed events (never polled). Views read these fields and call the actions.
 */
import type {
  DownloadProgress,
  FailedPhoto,
  Folder,
  IndexProgress,
  ModelInfo,
  Settings,
  Status,
  SwitchProgress,
} from '../../../main/core/contract.ts';
import { errorCode, errorMessage, type Client } from '../lib/client.ts';

/** 'album': a smart album, `#/album/<id>` (listed under the views in the sidebar, see AlbumsState). */
export type Route = 'photos' | 'search' | 'library' | 'duplicates' | 'models' | 'lab' | 'settings' | 'album';

/** The sidebar, in order: one entry per view. */
export const NAV: { route: Route; label: string; icon: string }[] = [
  { route: 'photos', label: 'Photos', icon: 'image' },
  { route: 'search', label: 'Search', icon: 'search' },
  { route: 'library', label: 'Library', icon: 'folder' },
  { route: 'duplicates', label: 'Duplicates', icon: 'copies' },
  { route: 'models', label: 'Models', icon: 'chip' },
  { route: 'lab', label: 'Lab', icon: 'lab' },
  { route: 'settings', label: 'Settings', icon: 'gear' },
];

const ROUTES = new Set<string>([...NAV.map((n) => n.route), 'album']);

/** The view in the address; without one, Photos (the home once a library exists — see `loadFolders`). */
function routeFromHash(): Route {
  const r = location.hash.replace(/^#\/?/, '').split(/[?/]/)[0] ?? '';
  return ROUTES.has(r) ? (r as Route) : 'photos';
}

export class AppState {
  route = $state<Route>(routeFromHash());
  folders = $state<Folder[]>([]);
  foldersLoaded = $state(false);
  status = $state<Status | null>(null);
  progress = $state<IndexProgress | null>(null);
  /** The OCR pass (reading text in photos). */
  textProgress = $state<IndexProgress | null>(null);
  failures = $state<FailedPhoto[]>([]);
  models = $state<ModelInfo[]>([]);
  downloads = $state<Record<string, DownloadProgress>>({});
  /** When each download in this page was first seen, to show its rate and time left. */
  private downloadStarts: Record<string, { at: number; received: number }> = {};
  /** A background switch of model in progress ("switching to X: 1,234 / 10,000"), or null. */
  switching = $state<SwitchProgress | null>(null);
  settings = $state<Settings | null>(null);
  connected = $state(true);
  /** A problem loading the app as a whole (no token, server gone); shown as a banner. */
  fatal = $state<string | null>(null);
  /** Calls this transport cannot do (e.g. open a file from a browser), with the app's reason. */
  unsupported = $state<Record<string, string>>({});
  /** Queries that show off the demo library, once it was added (from `library.demo`). */
  demoQueries = $state<string[]>([]);
  demoBusy = $state(false);
  demoError = $state<string | null>(null);

  activeModel = $derived(this.models.find((m) => m.active) ?? null);
  indexing = $derived(this.progress?.state === 'running' && this.progress.total > this.progress.done);

  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private systemDark: MediaQueryList = matchMedia('(prefers-color-scheme: dark)');

  constructor(readonly client: Client) {
    if (client.transport === 'browser') {
      // The headless server has no desktop to open files on; say so before anyone clicks.
      const why = 'Needs the desktop app: a browser cannot open files on the computer running LeanLens.';
      this.unsupported = { 'photos.open': why, 'photos.showInFolder': why };
    }
    window.addEventListener('hashchange', () => (this.route = routeFromHash()));
    client.on('index.progress', (p) => {
      const wasRunning = this.progress?.state === 'running';
      this.progress = p;
      // Counts and failures change while indexing; refresh them now and then, and once at the end.
      this.scheduleRefresh(wasRunning && p.state !== 'running' ? 50 : 1000);
    });
    client.on('text.progress', (p) => {
      const wasRunning = this.textProgress?.state === 'running';
      this.textProgress = p;
      this.scheduleRefresh(wasRunning && p.state !== 'running' ? 50 : 1000);
    });
    client.on('folders.changed', (f) => {
      this.folders = f;
      this.foldersLoaded = true;
      this.scheduleRefresh(300);
    });
    client.on('models.changed', (m) => (this.models = m));
    client.on('models.download', (d) => {
      this.downloadStarts[d.modelId] ??= { at: performance.now(), received: d.received };
      if (d.done) delete this.downloadStarts[d.modelId];
      this.downloads = { ...this.downloads, [d.modelId]: d };
      if (d.done) void this.loadModels();
    });
    client.on('models.switching', (s) => {
      this.switching = s;
      if (!s) void Promise.all([this.loadModels(), this.loadStatus()]);
    });
    client.onConnection((c) => {
      const back = c && !this.connected;
      this.connected = c;
      // Events were missed while the stream was down: reload everything once it is back.
      if (back) void this.loadAll();
    });
  }

  go(route: Route): void {
    location.hash = `#/${route}`;
    this.route = route;
  }

  async loadAll(): Promise<void> {
    try {
      await Promise.all([this.loadFolders(), this.loadStatus(), this.loadModels(), this.loadSettings(), this.loadFailures()]);
      void this.loadDemoQueries();
      this.fatal = null;
    } catch (e) {
      this.fatal = errorCode(e) === 'unauthorized' || errorCode(e) === 'offline' ? errorMessage(e) : this.fatal;
      if (!this.fatal) throw e;
    }
  }

  /** Adds the bundled demo library (and switches to its trained model); returns queries to try. */
  async openDemo(): Promise<string[]> {
    this.demoBusy = true;
    this.demoError = null;
    try {
      const demo = await this.client['library.demo']({});
      this.demoQueries = demo.queries;
      await this.loadAll();
      return demo.queries;
    } catch (e) {
      this.demoError = errorMessage(e);
      return [];
    } finally {
      this.demoBusy = false;
    }
  }

  /** Keeps offering the demo's queries after a reload while its folder is in the library. */
  private async loadDemoQueries(): Promise<void> {
    try {
      const demo = await this.client['library.demoInfo']({});
      this.demoQueries = demo && this.folders.some((f) => f.path === demo.photos) ? demo.queries : [];
    } catch {
      // the demo is an extra: without it there are simply no suggestions
    }
  }

  /** A folder's own name (the last part of its path), as the user named it on disk; null for an unknown id. */
  folderName(id: number): string | null {
    const f = this.folders.find((x) => x.id === id);
    return f ? (f.path.split(/[\\/]/).filter(Boolean).at(-1) ?? f.path) : null;
  }

  async loadFolders() {
    this.folders = await this.client['folders.list']({});
    this.foldersLoaded = true;
    // No library yet and no view asked for: start where the demo and "add a folder" are offered,
    // and say so in the address, so a reload stays there once the demo or a folder is added.
    if (this.folders.length === 0 && !ROUTES.has(location.hash.replace(/^#\/?/, '').split(/[?/]/)[0] ?? '')) {
      this.route = 'search';
      history.replaceState(history.state, '', '#/search');
    }
  }
  /** Bytes per second and seconds left of a download in progress, once it has run a moment. */
  downloadPace(id: string): { rate: number; eta: number | null } | null {
    const d = this.downloads[id];
    const start = this.downloadStarts[id];
    if (!d || d.done || !start) return null;
    const seconds = (performance.now() - start.at) / 1000;
    if (seconds < 1) return null;
    const rate = (d.received - start.received) / seconds;
    return { rate, eta: d.total && rate > 0 ? (d.total - d.received) / rate : null };
  }

  async loadStatus() {
    this.status = await this.client['index.status']({});
    this.switching = this.status.switching;
    this.progress = this.status.progress;
    this.textProgress = this.status.text?.progress ?? null;
  }
  async loadModels() {
    this.models = await this.client['models.list']({});
  }
  async loadSettings() {
    this.settings = await this.client['settings.get']({});
    this.applyTheme();
  }
  async loadFailures() {
    this.failures = await this.client['index.failures']({});
  }

  private scheduleRefresh(ms: number) {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void Promise.all([this.loadFolders(), this.loadFailures(), this.loadStatus()]).catch(() => {});
    }, ms);
  }

  async saveSettings(patch: Partial<Settings>): Promise<void> {
    this.settings = await this.client['settings.set'](patch);
    this.applyTheme();
  }

  applyTheme(): void {
    const theme = this.settings?.theme ?? 'system';
    document.documentElement.dataset.theme = theme;
  }

  /** Whether the OS asks for dark; used only for labels ("System (dark)"). */
  get systemPrefersDark(): boolean {
    return this.systemDark.matches;
  }

  /** Runs a desktop action; remembers it as unsupported when the app says so. */
  async desktopAction(name: 'photos.open' | 'photos.showInFolder', id: number): Promise<void> {
    try {
      await this.client[name]({ id });
    } catch (e) {
      if (errorCode(e) === 'unsupported') this.unsupported = { ...this.unsupported, [name]: errorMessage(e) };
      throw e;
    }
  }
}
