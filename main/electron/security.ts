/**
 * The desktop shell's security rules that can be stated without Electron, so they are unit-tested
 * here (see ../../../shared/docs/security.md). The Electron files only wire these decisions in.
 * Must never import 'electron'.
 */

/** The app's own page is served from this origin by the `app://` protocol handler. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'leanlens';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_PAGE_URL = `${APP_ORIGIN}/index.html`;
export const PHOTO_SCHEME = 'photo';

/**
 * True when `url` is a page of the app itself (the only sender whose IPC calls are answered).
 * Compares the parsed scheme and host exactly, so look-alikes (`app://leanlens.evil`,
 * `app://user@leanlens`, `https://leanlens`) are refused.
 */
export function isAppPageUrl(url: string | null | undefined): boolean {
  const u = parse(url);
  if (!u) return false;
  return u.protocol === `${APP_SCHEME}:` && u.hostname === APP_HOST && u.port === '' && u.username === '' && u.password === '';
}

/** Hosts whose https pages may open in the user's browser; everything else is refused. */
export const EXTERNAL_LINK_ALLOWLIST: readonly string[] = ['github.com', 'huggingface.co', 'onnxruntime.ai'];

/** True for `https:` URLs on exactly one of the allowlisted hosts (no subdomains, no credentials, no odd ports). */
export function isAllowedExternalUrl(url: string | null | undefined, allowlist: readonly string[] = EXTERNAL_LINK_ALLOWLIST): boolean {
  const u = parse(url);
  if (!u) return false;
  if (u.protocol !== 'https:' || u.username !== '' || u.password !== '' || u.port !== '') return false;
  return allowlist.includes(u.hostname.toLowerCase());
}

/**
 * What to do when the page tries to open a window or navigate away: never inside the app; an
 * allowlisted https link goes to the user's browser, anything else is dropped.
 */
export function externalLinkDecision(url: string): 'open-in-browser' | 'deny' {
  return isAllowedExternalUrl(url) ? 'open-in-browser' : 'deny';
}

/**
 * The Content-Security-Policy sent with every response of the app's own page.
 * Scripts only from the app itself (no inline, no eval); images only from the app and the
 * `photo:` protocol; no plugins, frames, forms or <base> tricks. Inline *styles* are allowed
 * because Svelte's style bindings write style attributes; they cannot run code.
 */
export function contentSecurityPolicy(): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' ${PHOTO_SCHEME}:`,
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'none'",
    "object-src 'none'",
    "frame-src 'none'",
    "worker-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The webPreferences of every window, kept as data so a test can check each flag. */
export function secureWebPreferences(preloadPath: string, additionalArguments: string[]) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    additionalArguments,
  } as const;
}

function parse(url: string | null | undefined): URL | null {
  if (typeof url !== 'string' || url.length === 0 || url.length > 8192) return null;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}
