/**
 * What the address bar holds: the view, the search query and the open photo, in the hash
 * (`#/photos?photo=42`, `#/search?q=red%20car&photo=7`). The hash survives the server's token
 * redirect (`/?token=…#/photos?photo=42` → `/#/photos?photo=42`), so a link shared with the token
 * opens the same photo; opening the viewer pushes a history entry, so Back closes it.
 */
export interface Address {
  view: string;
  query: string | null;
  photo: number | null;
}

export function parseAddress(hash: string): Address {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const view = (q < 0 ? raw : raw.slice(0, q)).split('/')[0] ?? '';
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const photo = params.get('photo');
  const id = photo != null && /^\d{1,15}$/.test(photo) ? Number(photo) : null;
  const query = params.get('q');
  return { view, query: query ? query : null, photo: id };
}

export function formatAddress(a: Address): string {
  const params = new URLSearchParams();
  if (a.query) params.set('q', a.query);
  if (a.photo != null) params.set('photo', String(a.photo));
  const rest = params.toString();
  // URLSearchParams writes spaces as '+'; %20 reads better in a shared link and parses the same.
  return `#/${a.view}${rest ? `?${rest.replace(/\+/g, '%20')}` : ''}`;
}

/**
 * The current address with some parts changed. `push` adds a history entry marked `viewer` (so
 * Back undoes it, and the viewer's close button knows it may go back); otherwise it replaces.
 */
export function setAddress(patch: Partial<Address>, push = false): void {
  const next = formatAddress({ ...parseAddress(location.hash), ...patch });
  if (next === location.hash) return;
  if (push) history.pushState({ viewer: true }, '', next);
  else history.replaceState(history.state, '', next);
}
