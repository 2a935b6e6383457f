// The desktop shell's pure security rules (security.md, "Electron" section).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callNames, eventNames } from '../../main/core/contract.ts';
import { resolveAppFile } from '../../main/electron/app-files.ts';
import { bridgeArgument, bridgeSpec, BRIDGE_ARGUMENT_PREFIX, callChannel, EVENT_CHANNEL } from '../../main/electron/bridge-spec.ts';
import { menuTemplate } from '../../main/electron/menu.ts';
import {
  APP_PAGE_URL,
  contentSecurityPolicy,
  externalLinkDecision,
  isAllowedExternalUrl,
  isAppPageUrl,
  secureWebPreferences,
} from '../../main/electron/security.ts';
import { DEFAULT_WINDOW_STATE, loadWindowState, MIN_WIDTH, sanitizeWindowState, saveWindowState } from '../../main/electron/window-state.ts';

describe('sender check: only the app page may call', () => {
  it('accepts the app page and other paths of the app origin', () => {
    expect(isAppPageUrl(APP_PAGE_URL)).toBe(true);
    expect(isAppPageUrl('app://leanlens/')).toBe(true);
    expect(isAppPageUrl('app://leanlens/index.html#/library')).toBe(true);
  });
  it.each([
    undefined,
    null,
    '',
    'not a url',
    'https://leanlens/index.html',
    'http://127.0.0.1:5173/index.html',
    'file:///tmp/index.html',
    'app://evil/index.html',
    'app://leanlens.evil.com/index.html',
    'app://user@leanlens/index.html',
    'app://leanlens:8080/index.html',
    'photo://thumbnail/1',
    'about:blank',
    'devtools://devtools/bundled/index.html',
  ])('refuses %s', (url) => {
    expect(isAppPageUrl(url as string)).toBe(false);
  });
});

describe('external links', () => {
  it('opens only https links on the allowlist', () => {
    expect(isAllowedExternalUrl('https://github.com/leanlens/leanlens')).toBe(true);
    expect(isAllowedExternalUrl('https://huggingface.co/openai/clip-vit-base-patch32')).toBe(true);
    expect(externalLinkDecision('https://github.com/x')).toBe('open-in-browser');
  });
  it.each([
    'http://github.com/',
    'https://github.com.evil.com/',
    'https://evil.com/github.com',
    'https://gist.github.com/',
    'https://user:pw@github.com/',
    'https://github.com:8443/',
    'javascript:alert(1)',
    'file:///etc/passwd',
    'app://leanlens/index.html',
    'smb://server/share',
    '',
  ])('refuses %s', (url) => {
    expect(isAllowedExternalUrl(url)).toBe(false);
    expect(externalLinkDecision(url)).toBe('deny');
  });
  it('accepts a caller-supplied allowlist only by exact host', () => {
    expect(isAllowedExternalUrl('https://example.org/a', ['example.org'])).toBe(true);
    expect(isAllowedExternalUrl('https://www.example.org/a', ['example.org'])).toBe(false);
  });
});

describe('Content-Security-Policy', () => {
  const csp = contentSecurityPolicy();
  const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));
  it("defaults to 'self' and allows scripts only from the app (no inline, no eval)", () => {
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(csp).not.toContain('unsafe-eval');
    expect(directives.get('script-src')!.join(' ')).not.toContain('unsafe-inline');
  });
  it('allows images only from the app and the photo: protocol', () => {
    expect(directives.get('img-src')).toEqual(["'self'", 'photo:']);
    expect(csp).not.toMatch(/\*|data:|blob:|https?:/);
  });
  it('forbids plugins, frames, <base> and forms', () => {
    for (const d of ['object-src', 'frame-src', 'base-uri', 'form-action', 'frame-ancestors']) expect(directives.get(d)).toEqual(["'none'"]);
  });
});

describe('window webPreferences', () => {
  it('isolates, sandboxes and disables node and webviews', () => {
    const p = secureWebPreferences('/x/preload.cjs', ['--a']);
    expect(p).toMatchObject({
      preload: '/x/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      additionalArguments: ['--a'],
    });
    expect(p).not.toHaveProperty('enableRemoteModule');
  });
});

describe('app:// file resolution', () => {
  const root = mkdtempSync(join(tmpdir(), 'leanlens-appfiles-'));
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('serves files under the renderer folder with their type', () => {
    expect(resolveAppFile('app://leanlens/index.html', root)).toEqual({ ok: true, path: join(root, 'index.html'), contentType: 'text/html; charset=utf-8' });
    expect(resolveAppFile('app://leanlens/', root)).toMatchObject({ ok: true, path: join(root, 'index.html') });
    const js = resolveAppFile('app://leanlens/assets/index-abc.js?v=1', root);
    expect(js).toMatchObject({ ok: true, contentType: 'text/javascript; charset=utf-8' });
    if (js.ok) expect(js.path.startsWith(root + sep)).toBe(true);
  });
  it.each([
    'app://leanlens/../../etc/passwd.txt',
    'app://leanlens/%2e%2e/%2e%2e/etc/passwd.txt',
    'app://leanlens/assets/..%2f..%2f..%2fetc%2fpasswd.txt',
    'app://leanlens/..%5c..%5cwindows%5cwin.ini.txt',
  ])('never resolves %s outside the renderer folder', (url) => {
    const r = resolveAppFile(url, root);
    if (r.ok) expect(r.path.startsWith(root + sep)).toBe(true);
  });
  it.each(['app://leanlens/a%00.js', 'app://leanlens/..%5c..%5cwin.ini.txt', 'app://other/index.html', 'photo://leanlens/index.html', 'app://leanlens/secret.db', 'app://leanlens/%E0%A4%A'])(
    'refuses %s',
    (url) => {
      expect(resolveAppFile(url, root).ok).toBe(false);
    },
  );
});

describe('bridge spec handed to the preload', () => {
  it('lists every contract call with its own channel, and every event', () => {
    const spec = bridgeSpec();
    expect(spec.calls.map((c) => c.name)).toEqual(callNames);
    expect(new Set(spec.calls.map((c) => c.channel)).size).toBe(callNames.length);
    expect(spec.calls[0]!.channel).toBe(callChannel(callNames[0]!));
    expect(spec.events).toEqual(eventNames);
    expect(spec.eventChannel).toBe(EVENT_CHANNEL);
  });
  it('round-trips through one argv entry without spaces', () => {
    const arg = bridgeArgument();
    expect(arg.startsWith(BRIDGE_ARGUMENT_PREFIX)).toBe(true);
    expect(arg).not.toMatch(/\s/);
    expect(JSON.parse(decodeURIComponent(arg.slice(BRIDGE_ARGUMENT_PREFIX.length)))).toEqual(bridgeSpec());
  });
});

describe('native menu', () => {
  const calls: string[] = [];
  const actions = {
    addFolder: () => calls.push('add'),
    setTheme: (t: string) => calls.push(`theme:${t}`),
    about: () => calls.push('about'),
    openWebsite: () => calls.push('web'),
  };
  const flat = (items: any[]): any[] => items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flat(i.submenu) : [])]);

  it('has File (Add Folder…, Quit), Edit, View, Window and Help (About)', () => {
    const t = menuTemplate(actions, { isMac: false, isDev: false, theme: 'system' });
    expect(t.map((m) => m.label ?? m.role)).toEqual(['File', 'editMenu', 'View', 'windowMenu', 'help']);
    const items = flat(t);
    items.find((i) => i.label === 'Add Folder…').click();
    items.find((i) => i.label === 'About LeanLens').click();
    items.find((i) => i.label === 'Dark').click();
    expect(calls).toEqual(['add', 'about', 'theme:dark']);
    expect(items.some((i) => i.role === 'quit')).toBe(true);
  });
  it('offers reload and developer tools only in development', () => {
    const prod = flat(menuTemplate(actions, { isMac: false, isDev: false, theme: 'system' }));
    const dev = flat(menuTemplate(actions, { isMac: false, isDev: true, theme: 'system' }));
    for (const role of ['reload', 'forceReload', 'toggleDevTools']) {
      expect(prod.some((i) => i.role === role)).toBe(false);
      expect(dev.some((i) => i.role === role)).toBe(true);
    }
  });
  it('checks the current theme and starts with the app menu on macOS', () => {
    const t = menuTemplate(actions, { isMac: true, isDev: false, theme: 'light' });
    expect(t[0]!.role).toBe('appMenu');
    const items = flat(t);
    expect(items.filter((i) => i.type === 'radio' && i.checked).map((i) => i.label)).toEqual(['Light']);
  });
});

describe('window state', () => {
  const screens = [{ x: 0, y: 0, width: 1920, height: 1080 }];
  it('keeps a saved size and on-screen position', () => {
    expect(sanitizeWindowState({ width: 1000, height: 700, x: 100, y: 50, maximized: true }, screens)).toEqual({ width: 1000, height: 700, x: 100, y: 50, maximized: true });
  });
  it('drops a position that is on no screen any more, and clamps silly sizes', () => {
    const s = sanitizeWindowState({ width: 99999, height: 10, x: 5000, y: 5000 }, screens);
    expect(s).toEqual({ width: 1920, height: 480, maximized: false });
    expect(sanitizeWindowState({ width: 'big', x: 1 }, screens)).toEqual(DEFAULT_WINDOW_STATE);
    expect(sanitizeWindowState(null, screens).width).toBeGreaterThanOrEqual(MIN_WIDTH);
  });
  it('saves and loads through a file, and survives a damaged one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'leanlens-winstate-'));
    try {
      const file = join(dir, 'sub', 'window-state.json');
      expect(loadWindowState(file, screens)).toEqual(DEFAULT_WINDOW_STATE);
      saveWindowState(file, { width: 900, height: 600, x: 10, y: 20, maximized: false });
      expect(loadWindowState(file, screens)).toEqual({ width: 900, height: 600, x: 10, y: 20, maximized: false });
      writeFileSync(file, '{ not json');
      expect(loadWindowState(file, screens)).toEqual(DEFAULT_WINDOW_STATE);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
