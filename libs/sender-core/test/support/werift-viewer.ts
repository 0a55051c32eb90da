import { SignalingClient, type ServerMessageOf } from '@robocam/protocol';
import { EmulatedLink, transportCcExtensionId, type EmulatedLinkSettings } from './emulated-link.ts';
import { decodeTimecodeFromLuma, i420Layout } from '@robocam/testpattern';
import { Codec, CodecContext, Frame, Packet } from 'node-av/lib';
import { AV_CODEC_ID_H264, AV_CODEC_ID_VP8 } from 'node-av/constants';
import {
  dePacketizeRtpPackets,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RTCRtpHeaderExtensionParameters,
  RtcpPayloadSpecificFeedback,
  useTransportWideCC,
  type RTCDataChannel,
  type RTCRtpTransceiver,
  type RtpPacket,
} from 'werift';

/** The abs-capture-time RTP header extension (each frame's capture time, NTP). */
export const ABS_CAPTURE_TIME_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time';

/** One picture as the viewer decoded it. */
export interface ReceivedFrame {
  receivedAt: number;
  /** performance.now() at reception, for frame-rate measurements. */
  receivedAtMono: number;
  keyframe: boolean;
  width: number;
  height: number;
  /** Packed I420. */
  i420: Buffer;
  /** Decoded timecode strip (capture time, counter), or undefined if it did not decode. */
  timecode: { timestampMs: number; counter: number } | undefined;
  /** The frame's RTP timestamp. */
  rtpTimestamp: number;
}

export interface ReceivedTrack {
  camera: string;
  transceiver: RTCRtpTransceiver;
  frames: ReceivedFrame[];
  packets: number;
  /** Encoded frames reassembled, before decoding. */
  encodedFrames: { keyframe: boolean; receivedAtMono: number }[];
  firstPacketAtMono: number | undefined;
  /** RTP sequence numbers that did not follow the previous packet's (+1, 16-bit). */
  sequenceGaps: number;
  lastSequence: number | undefined;
}

const FEEDBACK = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }];

/** werift settings for a receive-only test viewer of `codec` on this machine. */
export function viewerPeerConfig(
  codec: 'vp8' | 'h264',
  { transportCc = false, absCaptureTime = false }: { transportCc?: boolean; absCaptureTime?: boolean } = {},
): ConstructorParameters<typeof RTCPeerConnection>[0] {
  const rtcpFeedback = FEEDBACK;
  const extensions = [
    ...(transportCc ? [useTransportWideCC()] : []),
    ...(absCaptureTime ? [new RTCRtpHeaderExtensionParameters({ uri: ABS_CAPTURE_TIME_URI })] : []),
  ];
  return {
    // transportCc: transport-wide sequence numbers, as browsers negotiate them. The feedback comes
    // from EmulatedLink, not from werift's receiver (which sent 2 feedback packets in 20 s here):
    // the codec does not announce transport-cc, so werift's own stays off.
    // absCaptureTime: offer the abs-capture-time extension, as Chromium does.
    ...(extensions.length > 0 ? { headerExtensions: { video: extensions } } : {}),
    // Without a STUN server werift falls back to a public one, whose DNS lookup hangs offline and
    // keeps the process alive; a loopback address fails at once instead.
    iceServers: [{ urls: 'stun:127.0.0.1:9' }],
    iceStunGatherTimeout: 0.05,
    iceUseIpv6: false,
    // As browsers do. With werift's default (max-compat) a second m-line gets its own ICE
    // transport whose socket werift never closes, which keeps the test process alive.
    bundlePolicy: 'max-bundle',
    codecs: {
      video: [
        codec === 'vp8'
          ? new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback })
          : new RTCRtpCodecParameters({
              mimeType: 'video/H264',
              clockRate: 90000,
              rtcpFeedback,
              parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
            }),
      ],
    },
  };
}

/**
 * A viewer made of werift and node-av, as a test would want a browser to be: it negotiates through
 * the signaling server, reassembles RTP into frames, decodes them and reads the timecode strip.
 */
export class WeriftViewer {
  readonly client: SignalingClient;
  readonly tracks: ReceivedTrack[] = [];
  pc: RTCPeerConnection | undefined;
  session = `sess-${Math.random().toString(36).slice(2, 14)}`;
  connectedAtMono: number | undefined;
  /** The transport-cc feedback this viewer sends (`watch(…, { transportFeedback })`). */
  link: EmulatedLink | undefined;
  byes: ServerMessageOf<'bye'>[] = [];
  /** The teleop channels, when `watch(…, { dataChannels: true })` opened them (as the page does). */
  control: RTCDataChannel | undefined;
  events: RTCDataChannel | undefined;
  /** Every message the sender sent on the events channel, parsed. */
  readonly eventMessages: Record<string, unknown>[] = [];
  /** Every message the sender sent on the control channel (acknowledgements), parsed. */
  readonly controlMessages: Record<string, unknown>[] = [];
  readonly #decoders: Decoder[] = [];
  #firSequence = 0;

  /** Keep each decoded picture's pixels (false: only size and timecode, for long runs). */
  keepPixels = true;

  private constructor(url: string) {
    this.client = new SignalingClient({ url, role: 'viewer', name: 'werift viewer', heartbeatIntervalMs: 0 });
    this.client.on('bye', (bye) => this.byes.push(bye));
  }

  static async connect(url: string): Promise<WeriftViewer> {
    const viewer = new WeriftViewer(url);
    await viewer.client.connect();
    return viewer;
  }

  /** The first online sender's id, waiting for one to appear. */
  async senderId(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const first = [...this.client.senders.keys()][0];
      if (first !== undefined) return first;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('no sender online');
  }

  /** Negotiates a session for `cameras` and resolves when the peer connection is connected. */
  async watch(
    senderId: string,
    cameras: string[],
    codec: 'vp8' | 'h264',
    {
      rewriteAnswer = (sdp: string) => sdp,
      transportFeedback,
      dataChannels = false,
      absCaptureTime = false,
    }: {
      /** Open the control and events channels as the viewer page does; `watch` waits for them. */
      dataChannels?: boolean;
      /** Offer the abs-capture-time header extension. */
      absCaptureTime?: boolean;
      rewriteAnswer?: (sdp: string) => string | Promise<string>;
      /** Negotiate transport-wide sequence numbers and send transport-cc feedback (EmulatedLink). */
      transportFeedback?: EmulatedLinkSettings;
    } = {},
  ): Promise<void> {
    const pc = new RTCPeerConnection(
      viewerPeerConfig(codec, { transportCc: transportFeedback !== undefined, absCaptureTime }),
    );
    this.pc = pc;
    for (const camera of cameras) {
      const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
      const decoder = new Decoder(codec);
      this.#decoders.push(decoder);
      const track: ReceivedTrack = {
        camera,
        transceiver,
        frames: [],
        packets: 0,
        encodedFrames: [],
        firstPacketAtMono: undefined,
        sequenceGaps: 0,
        lastSequence: undefined,
      };
      this.tracks.push(track);
      transceiver.onTrack.subscribe((remote) => {
        let pending: RtpPacket[] = [];
        remote.onReceiveRtp.subscribe((packet) => {
          track.packets += 1;
          track.firstPacketAtMono ??= performance.now();
          const sequence = packet.header.sequenceNumber;
          if (track.lastSequence !== undefined && sequence !== ((track.lastSequence + 1) & 0xffff))
            track.sequenceGaps += 1;
          track.lastSequence = sequence;
          if (pending.length > 0 && pending[0]!.header.timestamp !== packet.header.timestamp) pending = [];
          pending.push(packet);
          if (!packet.header.marker) return;
          const packets = pending.sort((a, b) => a.header.sequenceNumber - b.header.sequenceNumber);
          pending = [];
          const assembled = dePacketizeRtpPackets(codec === 'vp8' ? 'vp8' : 'MPEG4/ISO/AVC', packets);
          const receivedAtMono = performance.now();
          const rtpTimestamp = packets[0]?.header.timestamp ?? 0;
          track.encodedFrames.push({ keyframe: assembled.isKeyframe, receivedAtMono });
          void decoder.decode(assembled.data, assembled.isKeyframe).then((pictures) => {
            for (const picture of pictures) {
              track.frames.push({
                ...picture,
                i420: this.keepPixels ? picture.i420 : Buffer.alloc(0),
                keyframe: assembled.isKeyframe,
                receivedAt: Date.now(),
                receivedAtMono,
                rtpTimestamp,
                timecode: readTimecode(picture.i420, picture.width, picture.height),
              });
            }
          });
        });
      });
    }
    const channelsOpen: Promise<void>[] = [];
    if (dataChannels) {
      const collect = (channel: RTCDataChannel, into: Record<string, unknown>[]): RTCDataChannel => {
        channel.onMessage.subscribe((data) => {
          into.push(JSON.parse(data.toString()) as Record<string, unknown>);
        });
        channelsOpen.push(
          new Promise<void>((resolve) => {
            channel.stateChanged.subscribe((state) => {
              if (state === 'open') resolve();
            });
          }),
        );
        return channel;
      };
      this.control = collect(
        pc.createDataChannel('robocam-control', { ordered: false, maxRetransmits: 0 }),
        this.controlMessages,
      );
      this.events = collect(pc.createDataChannel('robocam-events'), this.eventMessages);
    }
    const timers: NodeJS.Timeout[] = [];
    const connected = new Promise<void>((resolve, reject) => {
      // Generous: on a loaded machine several viewers handshaking at once took over 10 s.
      const timer = setTimeout(() => reject(new Error('viewer did not connect within 30 s')), 30_000);
      timers.push(timer);
      pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') {
          clearTimeout(timer);
          this.connectedAtMono = performance.now();
          resolve();
        }
      });
    });
    const answered = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within 10 s')), 10_000);
      timers.push(timer);
      this.client.on('answer', (answer) => {
        if (answer.session !== this.session) return;
        clearTimeout(timer);
        resolve(answer.sdp);
      });
      this.client.on('bye', (bye) => {
        if (bye.session === this.session) reject(new Error(`sender refused: ${bye.reason ?? ''}`));
      });
      this.client.on('server-error', (error) => {
        reject(error);
      });
    });
    await pc.setLocalDescription(await pc.createOffer());
    const offer = pc.localDescription?.sdp;
    if (offer === undefined) throw new Error('no offer');
    this.client.send({ type: 'offer', session: this.session, to: senderId, cameras, sdp: offer });
    connected.catch(() => undefined); // awaited below; avoid an unhandled rejection if the answer fails first
    try {
      const answerSdp = await rewriteAnswer(await answered);
      await pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
      await connected;
      await Promise.all(channelsOpen);
      if (transportFeedback !== undefined) {
        const extensionId = transportCcExtensionId(answerSdp);
        const transport = pc.getTransceivers()[0]?.dtlsTransport;
        if (extensionId === undefined || transport === undefined)
          throw new Error('the sender did not negotiate transport-wide sequence numbers');
        this.link = new EmulatedLink(transport, extensionId, transportFeedback);
      }
    } finally {
      for (const timer of timers) clearTimeout(timer);
    }
  }

  /** Asks the sender for a keyframe on track `index`, as a browser does after loss. */
  async sendPli(index = 0): Promise<void> {
    const transceiver = this.tracks[index]?.transceiver;
    const ssrc = transceiver?.receiver.tracks[0]?.ssrc;
    if (transceiver === undefined || ssrc === undefined) throw new Error('no track yet');
    await transceiver.receiver.sendRtcpPLI(ssrc);
  }

  /** Sends a Full Intra Request (RFC 5104) on track `index`. */
  async sendFir(index = 0): Promise<void> {
    const transceiver = this.tracks[index]?.transceiver;
    const ssrc = transceiver?.receiver.tracks[0]?.ssrc;
    if (transceiver === undefined || ssrc === undefined) throw new Error('no track yet');
    // werift can parse FIR but does not export a way to build one: the wire format is small.
    const serialize = (): Buffer<ArrayBuffer> => {
      const body = Buffer.alloc(16);
      body.writeUInt32BE(1, 0); // sender SSRC
      // RFC 5104 leaves the media SSRC unused (0), but werift routes feedback by it.
      body.writeUInt32BE(ssrc, 4);
      body.writeUInt32BE(ssrc, 8);
      body[12] = ++this.#firSequence & 0xff;
      return body;
    };
    const feedback = {
      count: 4,
      senderSsrc: 1,
      mediaSsrc: 0,
      fir: [{ ssrc, sequenceNumber: 1 }],
      length: 3,
      serialize,
    };
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- see above
    const fir = new RtcpPayloadSpecificFeedback({ feedback });
    await transceiver.receiver.dtlsTransport.sendRtcp([fir]);
  }

  /** Ends the session with a bye and closes everything. */
  async close(): Promise<void> {
    this.link?.close();
    this.client.send({ type: 'bye', session: this.session, reason: 'test done' });
    await this.pc?.close();
    this.client.close();
    await Promise.all(this.#decoders.map((decoder) => decoder.close()));
  }
}

export function readTimecode(
  i420: Buffer,
  width: number,
  height: number,
): { timestampMs: number; counter: number } | undefined {
  const result = decodeTimecodeFromLuma(i420.subarray(0, i420Layout(width, height).ySize), width, height);
  return result ?? undefined;
}

/** A node-av software decoder fed whole encoded frames. */
export class Decoder {
  readonly #context = new CodecContext();
  readonly #packet = new Packet();
  readonly #frame = new Frame();
  #opened: Promise<void>;
  #sawKeyframe = false;
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(codec: 'vp8' | 'h264') {
    const decoder = Codec.findDecoder(codec === 'vp8' ? AV_CODEC_ID_VP8 : AV_CODEC_ID_H264);
    if (decoder === null) throw new Error(`no ${codec} decoder`);
    this.#context.allocContext3(decoder);
    this.#context.threadCount = 1;
    this.#packet.alloc();
    this.#frame.alloc();
    this.#opened = this.#context.open2(decoder, null).then((code) => {
      if (code < 0) throw new Error(`decoder open failed: ${code}`);
    });
  }

  decode(data: Buffer, keyframe: boolean): Promise<{ width: number; height: number; i420: Buffer }[]> {
    const run = async (): Promise<{ width: number; height: number; i420: Buffer }[]> => {
      await this.#opened;
      if (this.#closed) return [];
      if (!this.#sawKeyframe && !keyframe) return [];
      this.#sawKeyframe = true;
      this.#packet.data = data;
      const sent = await this.#context.sendPacket(this.#packet);
      this.#packet.unref();
      if (sent < 0) return [];
      const out: { width: number; height: number; i420: Buffer }[] = [];
      while ((await this.#context.receiveFrame(this.#frame)) >= 0) {
        out.push({
          width: this.#frame.width,
          height: this.#frame.height,
          i420: Buffer.from(this.#frame.toBuffer()),
        });
        this.#frame.unref();
      }
      return out;
    };
    const result = this.#chain.then(run, run);
    this.#chain = result.catch(() => undefined);
    return result;
  }

  /** Waits for a decode in flight: freeing under a running native call would hang the process. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#chain;
    await this.#opened.catch(() => undefined);
    this.#context.freeContext();
    this.#packet.free();
    this.#frame.free();
  }
}
