/**
 * A real WHIP server for tests: Debian's Janus behind simple-whip-server, started by
 * ../shared/janus-whip/start.sh (see its README; setup.sh must have run outside the namespace), and
 * a subscriber that watches a publisher through Janus's own VideoRoom HTTP API with werift and
 * decodes its pictures with node-av.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dePacketizeRtpPackets, RTCPeerConnection, type RtpPacket } from 'werift';
import {
  Decoder,
  readTimecode,
  viewerPeerConfig,
} from '../../../../libs/sender-core/test/support/werift-viewer.js';

const shared = fileURLToPath(new URL('../../../../../shared/janus-whip/', import.meta.url));
const JANUS_API = 'http://127.0.0.1:8088/janus';
const ROOM = 1234;

/** A running Janus + simple-whip-server. */
export interface JanusRig {
  /** WHIP endpoint URLs by endpoint id (`cam1`, …). */
  urls: Map<string, string>;
  /** The log directory (`whip.log`, `janus.log`). */
  logs: string;
  output: string[];
  /** POSTs simple-whip-server received on endpoint `id` so far (its own log). */
  postsTo(id: string): number;
  /**
   * Janus's own view of endpoint `id`'s publisher (check.sh: the admin API's handle_info, two
   * samples): e.g. `publisher cam1: video H264, 61 packets in 2.0 s (48 kB)`, and whether video arrives.
   */
  check(id: string): Promise<{ ok: boolean; output: string }>;
  /** Stops both (SIGTERM to start.sh) and waits for them to exit. */
  stop(): Promise<void>;
}

/** Starts the rig with `endpoints` (all in room 1234); `env`: e.g. `JANUS_WHIP_TOKEN`. */
export async function startJanus(endpoints: string[], env: Record<string, string> = {}): Promise<JanusRig> {
  const child: ChildProcess = spawn(`${shared}start.sh`, endpoints, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const urls = new Map<string, string>();
  let logs = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`janus-whip did not start in 60 s:\n${output.join('')}`));
    }, 60_000);
    const onData = (data: Buffer): void => {
      const text = data.toString();
      output.push(text);
      for (const line of text.split('\n')) {
        const endpoint = /janus-whip: endpoint (\S+): (\S+)/.exec(line);
        if (endpoint !== null) urls.set(endpoint[1] as string, endpoint[2] as string);
        const logDir = /janus-whip: logs in (\S+)/.exec(line);
        if (logDir !== null) logs = logDir[1] as string;
      }
      if (endpoints.every((id) => urls.has(id))) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`janus-whip exited while starting:\n${output.join('')}`));
    });
  });
  return {
    urls,
    logs,
    output,
    postsTo(id: string): number {
      const log = readFileSync(`${logs}/whip.log`, 'utf8');
      return log.split('\n').filter((line) => line.includes(`whip:debug /endpoint/: ${id}`)).length;
    },
    check(id: string): Promise<{ ok: boolean; output: string }> {
      return new Promise((resolve) => {
        execFile(`${shared}check.sh`, [id], (error, stdout, stderr) => {
          resolve({ ok: error === null, output: `${stdout}${stderr}` });
        });
      });
    },
    async stop(): Promise<void> {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface JanusReply {
  janus: string;
  data?: { id: number };
  plugindata?: { data: Record<string, unknown> };
  jsep?: { type: string; sdp: string };
  error?: { code: number; reason: string };
}

async function janus(path: string, body: Record<string, unknown>): Promise<JanusReply> {
  const response = await fetch(`${JANUS_API}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, transaction: Math.random().toString(36).slice(2) }),
  });
  const reply = (await response.json()) as JanusReply;
  if (reply.janus === 'error') throw new Error(`janus: ${reply.error?.reason ?? 'error'}`);
  return reply;
}

/** One decoded picture. */
export interface SubscribedFrame {
  width: number;
  height: number;
  /** The test pattern's timecode strip, or undefined if it did not decode. */
  timecode: { timestampMs: number; counter: number } | undefined;
}

/** A VideoRoom subscriber over Janus's HTTP API, receiving with werift, decoding with node-av. */
export class JanusSubscriber {
  readonly frames: SubscribedFrame[] = [];
  packets = 0;
  readonly #pc: RTCPeerConnection;
  readonly #decoder: Decoder;
  readonly #session: number;
  readonly #polling = new AbortController();

  private constructor(session: number, codec: 'vp8' | 'h264') {
    this.#session = session;
    this.#pc = new RTCPeerConnection(viewerPeerConfig(codec));
    this.#decoder = new Decoder(codec);
    let pending: RtpPacket[] = [];
    this.#pc.onTrack.subscribe((track) => {
      {
        track.onReceiveRtp.subscribe((packet) => {
          this.packets += 1;
          if (pending.length > 0 && pending[0]?.header.timestamp !== packet.header.timestamp) pending = [];
          pending.push(packet);
          if (!packet.header.marker) return;
          const frame = pending.sort((a, b) => a.header.sequenceNumber - b.header.sequenceNumber);
          pending = [];
          const assembled = dePacketizeRtpPackets(codec === 'vp8' ? 'vp8' : 'MPEG4/ISO/AVC', frame);
          void this.#decoder.decode(assembled.data, assembled.isKeyframe).then((pictures) => {
            for (const picture of pictures) {
              this.frames.push({
                width: picture.width,
                height: picture.height,
                timecode: readTimecode(picture.i420, picture.width, picture.height),
              });
            }
          });
        });
      }
    });
  }

  /** Subscribes to the first publisher in room 1234 and resolves once the peer connection is up. */
  static async watch(codec: 'vp8' | 'h264' = 'vp8'): Promise<JanusSubscriber> {
    const created = await janus('', { janus: 'create' });
    const session = created.data?.id;
    if (session === undefined) throw new Error('janus: no session');
    const subscriber = new JanusSubscriber(session, codec);
    try {
      await subscriber.#join();
      return subscriber;
    } catch (error) {
      await subscriber.close();
      throw error;
    }
  }

  async #join(): Promise<void> {
    const attached = await janus(`/${this.#session}`, { janus: 'attach', plugin: 'janus.plugin.videoroom' });
    const handle = attached.data?.id;
    if (handle === undefined) throw new Error('janus: no handle');
    const path = `/${this.#session}/${handle}`;
    const listed = await janus(path, { janus: 'message', body: { request: 'listparticipants', room: ROOM } });
    const participants = (listed.plugindata?.data['participants'] ?? []) as {
      id: number;
      publisher: boolean;
    }[];
    const feed = participants.find((participant) => participant.publisher)?.id;
    if (feed === undefined) throw new Error('janus: no publisher in room 1234');
    await janus(path, { janus: 'message', body: { request: 'join', ptype: 'subscriber', room: ROOM, feed } });
    const offer = await this.#nextJsep();
    await this.#pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await this.#pc.setLocalDescription(await this.#pc.createAnswer());
    await new Promise<void>((resolve) => {
      if (this.#pc.iceGatheringState === 'complete') resolve();
      else
        this.#pc.iceGatheringStateChange.subscribe((state) => {
          if (state === 'complete') resolve();
        });
    });
    const connected = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('subscriber not connected in 20 s')), 20_000);
      this.#pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await janus(path, {
      janus: 'message',
      body: { request: 'start', room: ROOM },
      jsep: { type: 'answer', sdp: this.#pc.localDescription?.sdp },
    });
    await connected;
    void this.#keepAlive();
  }

  /** Long-polls the session's events until one carries a JSEP offer. */
  async #nextJsep(): Promise<string> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const response = await fetch(`${JANUS_API}/${this.#session}?maxev=1`);
      const event = (await response.json()) as JanusReply;
      if (event.jsep?.type === 'offer') return event.jsep.sdp;
    }
    throw new Error('janus: no offer for the subscriber');
  }

  /** The long poll is also the session's keep-alive (Janus drops sessions idle for 60 s). */
  async #keepAlive(): Promise<void> {
    const stop = this.#polling.signal;
    while (!stop.aborted) {
      try {
        const response = await fetch(`${JANUS_API}/${this.#session}?maxev=1`, {
          signal: AbortSignal.any([stop, AbortSignal.timeout(35_000)]),
        });
        await response.text();
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  async close(): Promise<void> {
    this.#polling.abort();
    await janus(`/${this.#session}`, { janus: 'destroy' }).catch(() => undefined);
    await this.#pc.close();
    await this.#decoder.close();
  }
}
