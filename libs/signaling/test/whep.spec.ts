import { afterEach, describe, expect, it } from '@jest/globals';
import { createSignalingServer, type SignalingServer, type SignalingServerSettings } from '../src/index.js';
import { camera, TestPeer } from './helpers.js';

// WHEP over real HTTP against the real signaling server. The sender here is a scripted peer on a
// real WebSocket that answers offers like a sender would; the media path with the real sender and
// a real WHEP client is tested in libs/sender-core and in the browser e2e suite.

const offer = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=recvonly',
  'a=ice-ufrag:viewerufrag',
  'a=ice-pwd:viewerpasswordviewerpassword',
  'a=fingerprint:sha-256 AA:BB',
  'a=setup:actpass',
  'a=rtpmap:96 VP8/90000',
  '',
].join('\r\n');

function answerFor(ufrag = 'senderufrag'): string {
  return [
    'v=0',
    'o=- 3 4 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=ice-lite',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'a=mid:0',
    'a=sendonly',
    `a=ice-ufrag:${ufrag}`,
    'a=ice-pwd:senderpasswordsenderpassword',
    'a=candidate:1 1 udp 2130706431 127.0.0.2 40000 typ host',
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}

let server: SignalingServer;
const peers: TestPeer[] = [];

async function start(settings: SignalingServerSettings = {}): Promise<string> {
  server = await createSignalingServer({ port: 0, host: '127.0.0.1', ...settings });
  return `http://127.0.0.1:${server.port}`;
}

/** A sender that answers every offer (or refuses with a bye) and records what it receives. */
async function scriptedSender(name = 'robot', refuse?: string): Promise<TestPeer & { id: string }> {
  const sender = await TestPeer.register(server.url, 'sender', {
    name,
    cameras: [camera, { ...camera, id: 'rear' }],
  });
  peers.push(sender);
  sender.socket.on('message', (data) => {
    const message = JSON.parse((data as Buffer).toString('utf8')) as {
      type: string;
      session: string;
      sdp?: string;
    };
    if (message.type !== 'offer') return;
    if (refuse !== undefined) {
      sender.send({ type: 'bye', session: message.session, reason: refuse });
      return;
    }
    const restarted = message.sdp?.includes('a=ice-ufrag:restartufrag') === true;
    sender.send({
      type: 'answer',
      session: message.session,
      sdp: answerFor(restarted ? 'newsenderufrag' : 'senderufrag'),
    });
  });
  return sender;
}

function post(base: string, path = '/whep', init: { body?: string; headers?: Record<string, string> } = {}) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', ...init.headers },
    body: init.body ?? offer,
  });
}

afterEach(async () => {
  for (const peer of peers.splice(0)) peer.socket.terminate();
  await server.close();
});

describe('WHEP', () => {
  it('creates a session: 201 with the answer, Location, ETag; PATCH trickles; DELETE ends it', async () => {
    const base = await start();
    const sender = await scriptedSender();
    const response = await post(base);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/sdp');
    const location = response.headers.get('location')!;
    expect(location).toMatch(/^\/whep\/sessions\/[A-Za-z0-9_-]{24}$/);
    expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(response.headers.get('access-control-expose-headers')).toContain('location');
    expect(await response.text()).toBe(answerFor());
    const routed = await sender.next('offer');
    expect(routed).toMatchObject({ cameras: ['front'], sdp: offer });
    expect(routed.from).toMatch(/^w-/);
    expect(server.stats()).toMatchObject({ viewers: 1, sessions: 1 });

    const patch = await fetch(`${base}${location}`, {
      method: 'PATCH',
      headers: {
        'content-type': 'application/trickle-ice-sdpfrag',
        'if-match': response.headers.get('etag')!,
      },
      body: 'a=ice-ufrag:viewerufrag\r\na=ice-pwd:viewerpasswordviewerpassword\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=candidate:2 1 udp 2130706431 127.0.0.2 50000 typ host\r\na=end-of-candidates\r\n',
    });
    expect(patch.status).toBe(204);
    expect(await sender.next('candidate')).toMatchObject({
      session: routed.session,
      candidate: {
        candidate: 'candidate:2 1 udp 2130706431 127.0.0.2 50000 typ host',
        sdpMid: '0',
        sdpMLineIndex: 0,
      },
    });
    expect((await sender.next('candidate')).candidate).toBeNull();

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('robocam_whep_sessions 1');

    expect((await fetch(`${base}${location}`, { method: 'DELETE' })).status).toBe(200);
    expect(await sender.next('bye')).toMatchObject({ session: routed.session, code: 'closed' });
    expect(server.stats()).toMatchObject({ viewers: 0, sessions: 0 });
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('robocam_whep_sessions 0');
    expect((await fetch(`${base}${location}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('addresses a sender and camera by name in the path', async () => {
    const base = await start();
    const sender = await scriptedSender('rover one');
    expect((await post(base, '/rover%20one/rear/whep')).status).toBe(201);
    expect((await sender.next('offer')).cameras).toEqual(['rear']);
    expect((await post(base, `/${sender.id}/front/whep`)).status).toBe(201);
  });

  it('restarts ICE on PATCH with If-Match: * and answers with a new fragment and ETag', async () => {
    const base = await start();
    const sender = await scriptedSender();
    const created = await post(base);
    const location = created.headers.get('location')!;
    const etag = created.headers.get('etag')!;
    await sender.next('offer');
    const fragment = 'a=ice-ufrag:restartufrag\r\na=ice-pwd:restartpasswordrestartpassword\r\n';
    const headers = { 'content-type': 'application/trickle-ice-sdpfrag' };

    const missing = await fetch(`${base}${location}`, { method: 'PATCH', headers, body: fragment });
    expect(missing.status).toBe(428);
    const stale = await fetch(`${base}${location}`, {
      method: 'PATCH',
      headers: { ...headers, 'if-match': '"stale"' },
      body: fragment,
    });
    expect(stale.status).toBe(412);

    const restart = await fetch(`${base}${location}`, {
      method: 'PATCH',
      headers: { ...headers, 'if-match': '*' },
      body: fragment,
    });
    expect(restart.status).toBe(200);
    expect(restart.headers.get('content-type')).toBe('application/trickle-ice-sdpfrag');
    const newEtag = restart.headers.get('etag');
    expect(newEtag).not.toBe(etag);
    const body = await restart.text();
    expect(body).toContain('a=ice-ufrag:newsenderufrag');
    expect(body).toContain('a=candidate:1 1 udp 2130706431 127.0.0.2 40000 typ host');
    const reoffer = await sender.next('offer');
    expect(reoffer.sdp).toContain('a=ice-ufrag:restartufrag');
    expect(reoffer.sdp).not.toContain('viewerufrag');

    // The old ETag no longer matches a trickle PATCH.
    const trickle = 'a=ice-ufrag:restartufrag\r\na=candidate:3 1 udp 1 127.0.0.2 5 typ host\r\n';
    expect(
      (
        await fetch(`${base}${location}`, {
          method: 'PATCH',
          headers: { ...headers, 'if-match': etag },
          body: trickle,
        })
      ).status,
    ).toBe(412);
    expect(
      (
        await fetch(`${base}${location}`, {
          method: 'PATCH',
          headers: { ...headers, 'if-match': newEtag! },
          body: trickle,
        })
      ).status,
    ).toBe(204);
  });

  it('answers each failure with its status code', async () => {
    const base = await start({ maxSessionsPerSender: 1 });
    expect((await post(base)).status).toBe(503); // nobody online yet
    const noSender = await post(base);
    expect(noSender.headers.get('retry-after')).toBe('5');
    expect((await post(base, '/ghost/front/whep')).status).toBe(404);

    const sender = await scriptedSender('robot');
    expect((await post(base, '/whep', { headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await post(base, '/whep', { body: 'hello' })).status).toBe(400);
    expect((await post(base, '/whep', { body: offer.replace('m=video', 'm=audio') })).status).toBe(400);
    expect((await post(base, '/whep', { body: offer.replace('a=mid:0', 'a=mid:0\u0000') })).status).toBe(400);
    expect((await post(base, '/whep', { body: `${offer}a=x:${'y'.repeat(60_000)}\r\n` })).status).toBe(413);
    expect((await post(base, '/robot/nope/whep')).status).toBe(404);
    expect((await post(base, '/%E0%A4%A/front/whep')).status).toBe(400);
    expect((await fetch(`${base}/whep`, { method: 'GET' })).status).toBe(405);
    expect((await fetch(`${base}/whep/sessions/AAAAAAAAAAAAAAAAAAAAAAAA`, { method: 'DELETE' })).status).toBe(
      404,
    );

    expect((await post(base)).status).toBe(201);
    const full = await post(base);
    expect(full.status).toBe(503); // the sender's session cap
    expect(full.headers.get('retry-after')).toBe('5');

    sender.socket.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const gone = await post(base, '/robot/front/whep');
    expect(gone.status).toBe(503); // known sender, offline for now
  });

  it('reports a sender that refuses the viewer as 503', async () => {
    const base = await start();
    await scriptedSender('robot', 'too many viewers');
    const refused = await post(base);
    expect(refused.status).toBe(503);
    expect(await refused.text()).toContain('too many viewers');
    expect(server.stats()).toMatchObject({ viewers: 0, sessions: 0 });
  });

  it('requires the viewer token as a Bearer token when set', async () => {
    const base = await start({ viewerToken: 'letmein' });
    await TestPeer.register(server.url, 'sender', { cameras: [camera] }).then((peer) => peers.push(peer));
    const denied = await post(base);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Bearer');
    expect((await post(base, '/whep', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await post(base, '/whep', { headers: { authorization: 'letmein' } })).status).toBe(401);
  });

  it('answers OPTIONS for CORS preflight with Accept-Post and ICE server links', async () => {
    const base = await start({
      whepIceServers: [
        { urls: 'stun:stun.example.net' },
        { urls: 'turn:turn.example.net?transport=udp', username: 'u', credential: 'p"\r\nX-Evil: 1' },
      ],
    });
    const response = await fetch(`${base}/whep`, {
      method: 'OPTIONS',
      headers: { origin: 'http://viewer.example' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('accept-post')).toBe('application/sdp');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toContain('if-match');
    expect(response.headers.get('x-evil')).toBeNull();
    const links = response.headers.get('link')!;
    expect(links).toContain('<stun:stun.example.net>; rel="ice-server"');
    expect(links).toContain(
      '<turn:turn.example.net?transport=udp>; rel="ice-server"; username="u"; credential="pX-Evil: 1"',
    );
  });

  it('never lets a path put a header into the response', async () => {
    const base = await start();
    await scriptedSender('robot');
    const response = await post(base, '/robot%0d%0aX-Injected:%201/front/whep');
    expect(response.status).toBe(404);
    expect(response.headers.get('x-injected')).toBeNull();
    const ok = await post(base, '/robot/front/whep');
    expect(ok.headers.get('location')).toMatch(/^\/whep\/sessions\/[A-Za-z0-9_-]+$/);
  });
});
