/**
 * The viewer's zoom arithmetic. Scales are relative to 1:1 (one image pixel per device pixel);
 * the photo is centred in the stage and moved by `pan` (CSS px).
 */
export interface Size {
  w: number;
  h: number;
}
export interface Pan {
  x: number;
  y: number;
}

export const MAX_ZOOM = 8;

/** The scale that shows the whole photo, but never above 1:1: a small photo stays small and sharp. */
export function fitScale(photo: Size, stage: Size): number {
  if (photo.w <= 0 || photo.h <= 0 || stage.w <= 0 || stage.h <= 0) return 1;
  return Math.min(1, stage.w / photo.w, stage.h / photo.h);
}

/** The pan that keeps the image point under `at` (relative to the stage centre) in place while the scale changes. */
export function zoomAround(pan: Pan, from: number, to: number, at: Pan): Pan {
  const k = to / from;
  return { x: at.x - (at.x - pan.x) * k, y: at.y - (at.y - pan.y) * k };
}

/** Keeps a zoomed photo covering the stage: it can be moved only as far as it overhangs. */
export function clampPan(pan: Pan, shown: Size, stage: Size): Pan {
  const mx = Math.max(0, (shown.w - stage.w) / 2);
  const my = Math.max(0, (shown.h - stage.h) / 2);
  return { x: Math.max(-mx, Math.min(mx, pan.x)), y: Math.max(-my, Math.min(my, pan.y)) };
}
