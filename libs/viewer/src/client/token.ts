// The viewer token (the signaling server's VIEWER_TOKEN) as the page keeps it: for this tab's
// session only (sessionStorage, gone when the tab closes), never in localStorage or a cookie.
// A link may carry it in the URL fragment (`#token=…`), which browsers never send to the web
// server; the page takes it out of the address bar at once so that it does not end up in
// bookmarks, screenshots or the history.

const STORAGE_KEY = 'robocam.token';
/** The protocol's longest token (libs/protocol LIMITS.maxTokenLength). */
const MAX_TOKEN_LENGTH = 512;

/**
 * The token of `#token=…` in the page's URL, removed from the address bar (history.replaceState,
 * other fragment parameters kept) and stored for the session; undefined when there is none.
 */
export function takeTokenFromFragment(): string | undefined {
  const hash = window.location.hash.replace(/^#/, '');
  if (hash === '') return undefined;
  const params = new URLSearchParams(hash);
  const token = params.get('token');
  if (token === null) return undefined;
  params.delete('token');
  const rest = params.toString();
  const url = `${window.location.pathname}${window.location.search}${rest === '' ? '' : `#${rest}`}`;
  try {
    history.replaceState(history.state, '', url);
  } catch {
    // Sandboxed documents may refuse; the token still works.
  }
  const usable = normalizeToken(token);
  if (usable !== undefined) storeToken(usable);
  return usable;
}

/** The token this tab used last, if any. */
export function storedToken(): string | undefined {
  try {
    return normalizeToken(sessionStorage.getItem(STORAGE_KEY) ?? '');
  } catch {
    return undefined; // storage disabled: the page asks again
  }
}

/** Keeps `token` for this tab's session. */
export function storeToken(token: string): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, token);
  } catch {
    // Storage disabled: the token works until the page reloads.
  }
}

/** Forgets the stored token (the server refused it). */
export function forgetToken(): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing stored
  }
}

/** A token as typed or linked: trimmed; undefined when empty or longer than the protocol allows. */
export function normalizeToken(value: string): string | undefined {
  const token = value.trim();
  return token === '' || token.length > MAX_TOKEN_LENGTH ? undefined : token;
}
