/** What the page learns from its server (`GET /config.json`). */
export interface PageConfig {
  signalingUrl: string;
}

/** Fetches the page's configuration; throws with a readable reason. */
export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<PageConfig> {
  const response = await fetchImpl('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`GET /config.json answered ${response.status}`);
  const body = (await response.json()) as { signalingUrl?: unknown };
  if (typeof body.signalingUrl !== 'string' || !/^wss?:\/\//.test(body.signalingUrl)) {
    throw new Error(
      'the server could not tell the signaling URL (check its SIGNALING_URL or the Host header)',
    );
  }
  return { signalingUrl: body.signalingUrl };
}
