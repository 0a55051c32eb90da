/**
 * Where the viewer page connects for signaling:
 * - `port`: the page's own host on that port (`ws:` for an `http:` page, `wss:` for `https:`),
 * - `path`: the page's own origin with that path (a reverse proxy forwards it to the signaling server),
 * - `url`: exactly this URL.
 */
export type SignalingTarget =
  { kind: 'port'; port: number } | { kind: 'path'; path: string } | { kind: 'url'; url: string };

/** What a request tells about the origin the browser used. */
export interface RequestOrigin {
  /** The Host header (or X-Forwarded-Host behind a trusted proxy), e.g. `robot.local:8080`. */
  host: string | undefined;
  /** Whether the page was loaded over https. */
  secure: boolean;
}

/**
 * Parses a Host header value into a normalized host name (IPv6 in brackets) and port, or undefined
 * when it is not a plain `host[:port]` (anything else could smuggle text into headers).
 */
export function parseHost(host: string | undefined): { hostname: string; port: string } | undefined {
  if (host === undefined || host.length > 255) return undefined;
  // Only a name or an address and an optional port: no credentials, paths, spaces or quotes.
  if (!/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host)) return undefined;
  try {
    const url = new URL(`http://${host}`);
    return { hostname: url.hostname, port: url.port };
  } catch {
    return undefined;
  }
}

/**
 * The signaling WebSocket URL the page should use, or undefined when it cannot be derived from the
 * request (a missing or malformed Host header with a host-relative target).
 */
export function resolveSignalingUrl(target: SignalingTarget, origin: RequestOrigin): string | undefined {
  if (target.kind === 'url') return target.url;
  const host = parseHost(origin.host);
  if (host === undefined) return undefined;
  const scheme = origin.secure ? 'wss' : 'ws';
  if (target.kind === 'port') return `${scheme}://${host.hostname}:${target.port}`;
  return `${scheme}://${host.hostname}${host.port === '' ? '' : `:${host.port}`}${target.path}`;
}

/** The origin part of a ws(s) URL (`ws://host:port`), as a CSP source expression. */
export function cspSourceOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') return undefined;
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return undefined;
  }
}
