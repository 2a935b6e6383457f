/**
 * Remembers the main window's size, position and maximized state in a small JSON file in the
 * app's data folder. Reading is forgiving (a missing or damaged file gives the defaults) and a
 * saved position that is no longer on any screen (unplugged monitor) is dropped, so the window
 * never opens out of sight. Must never import 'electron'.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface WindowState {
  width: number;
  height: number;
  x?: number;
  y?: number;
  maximized: boolean;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const DEFAULT_WINDOW_STATE: WindowState = { width: 1280, height: 820, maximized: false };
export const MIN_WIDTH = 720;
export const MIN_HEIGHT = 480;

/** Turns whatever is in the file into a usable state for the given screens' work areas. */
export function sanitizeWindowState(raw: unknown, workAreas: Rect[]): WindowState {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : undefined);
  const largest = workAreas.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a), workAreas[0] ?? { x: 0, y: 0, width: 1920, height: 1080 });
  const width = clamp(num(r.width) ?? DEFAULT_WINDOW_STATE.width, MIN_WIDTH, Math.max(MIN_WIDTH, largest.width));
  const height = clamp(num(r.height) ?? DEFAULT_WINDOW_STATE.height, MIN_HEIGHT, Math.max(MIN_HEIGHT, largest.height));
  const state: WindowState = { width, height, maximized: r.maximized === true };
  const x = num(r.x);
  const y = num(r.y);
  if (x !== undefined && y !== undefined && workAreas.some((a) => visibleEnough({ x, y, width, height }, a))) {
    state.x = x;
    state.y = y;
  }
  return state;
}

export function loadWindowState(file: string, workAreas: Rect[]): WindowState {
  let raw: unknown = null;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // Missing or damaged: defaults.
  }
  return sanitizeWindowState(raw, workAreas);
}

/** Written atomically so a crash mid-write leaves the previous state, not half a file. */
export function saveWindowState(file: string, state: WindowState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, file);
}

/** At least 100×50 px of the window's top strip (where the title bar is) lies on this screen. */
function visibleEnough(win: Rect, area: Rect): boolean {
  const w = Math.min(win.x + win.width, area.x + area.width) - Math.max(win.x, area.x);
  const h = Math.min(win.y + 50, area.y + area.height) - Math.max(win.y, area.y);
  return w >= 100 && h >= 50;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
