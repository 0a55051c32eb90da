/** What the page learns from its server (`GET /config.json`). */
export interface PageConfig {
  signalingUrl: string;
  /** STUN/TURN servers for the peer connections (none: host candidates only). */
  iceServers: RTCIceServer[];
  /** `relay`: TURN relay candidates only. */
  iceTransportPolicy: RTCIceTransportPolicy;
}

/** Fetches the page's configuration; throws with a readable reason. */
export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<PageConfig> {
  const response = await fetchImpl('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`GET /config.json answered ${response.status}`);
  const body = (await response.json()) as {
    signalingUrl?: unknown;
    iceServers?: unknown;
    iceTransportPolicy?: unknown;
  };
  if (typeof body.signalingUrl !== 'string' || !/^wss?:\/\//.test(body.signalingUrl)) {
    throw new Error(
      'the server could not tell the signaling URL (check its SIGNALING_URL or the Host header)',
    );
  }
  return {
    signalingUrl: body.signalingUrl,
    iceServers: parseIceServers(body.iceServers),
    iceTransportPolicy: body.iceTransportPolicy === 'relay' ? 'relay' : 'all',
  };
}

/** Keeps the well-formed entries of `/config.json`'s `iceServers` (an RTCPeerConnection throws on bad ones). */
function parseIceServers(value: unknown): RTCIceServer[] {
  if (!Array.isArray(value)) return [];
  const servers: RTCIceServer[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { urls, username, credential } = entry as Record<string, unknown>;
    const list = (Array.isArray(urls) ? (urls as unknown[]) : [urls]).filter(
      (url): url is string => typeof url === 'string' && /^(stun|stuns|turn|turns):/.test(url),
    );
    if (list.length === 0) continue;
    servers.push({
      urls: list,
      ...(typeof username === 'string' ? { username } : {}),
      ...(typeof credential === 'string' ? { credential } : {}),
    });
  }
  return servers;
}
