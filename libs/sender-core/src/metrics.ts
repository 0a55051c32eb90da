import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CAMERA_STATUSES } from '@robocam/types';
import { CameraPipeline } from './camera-pipeline.js';
import type { EncodedFrame } from './encoder/index.js';
import { KEYFRAME_REASONS } from './keyframe-policy.js';
import type { Sender, SenderStats } from './sender.js';

export interface SenderMetricsSettings {
  /** Registry the collectors go into. Default: a registry of their own. */
  registry?: Registry;
  /**
   * Most viewers with series of their own (`viewer` label = a slot number, 0..max-1, reused once
   * its session ends). Viewers beyond it are counted in `robocam_viewers` only. Default 32.
   */
  maxViewerSeries?: number;
  /** Also export Node process metrics (CPU, memory, event loop, `robocam_sender_` prefix). Default true. */
  processMetrics?: boolean;
}

/** Scrapes closer together than this (ms) share one `sender.stats()` call. */
const STATS_REUSE_MS = 250;

/** Encode time buckets, seconds: 720p VP8 on one core takes 5–20 ms, a stalled libvpx 100–250 ms. */
const ENCODE_BUCKETS_S = [0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5];

/**
 * A sender's Prometheus metrics (`robocam_` prefix), read from `sender.stats()` when scraped, plus
 * an encode time histogram fed by every encoded frame. Per camera: `camera` label (the configured
 * ids). Per viewer: `viewer` label = a slot number with a cap (see
 * {@link SenderMetricsSettings.maxViewerSeries}); a session's series disappear with the session,
 * so the label's values stay bounded however many viewers come and go. Per WHIP publication:
 * `publication` (its id, `whip-1`, …: as many as configured) and `camera` labels. Teleop: the lease
 * and the commands applied and dropped, by reason.
 */
export class SenderMetrics {
  readonly registry: Registry;
  readonly #sender: Sender;
  readonly #slots: ViewerSlots;
  readonly #unsubscribe: (() => void)[] = [];
  #stats: { atMs: number; promise: Promise<SenderStats> } | undefined;
  #closed = false;

  constructor(
    sender: Sender,
    { registry, maxViewerSeries = 32, processMetrics = true }: SenderMetricsSettings = {},
  ) {
    this.#sender = sender;
    this.registry = registry ?? new Registry();
    this.#slots = new ViewerSlots(maxViewerSeries);
    if (processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'robocam_sender_' });
    this.#registerSender();
    this.#registerCameras();
    this.#registerViewers();
    this.#registerPublications();
    this.#registerControl();
  }

  /** The Content-Type of {@link metrics}' text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric now. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops listening to the cameras' encoded frames and empties the registry. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    this.registry.clear();
  }

  /** One `sender.stats()` per scrape: every collector of a scrape asks at about the same time. */
  #read(): Promise<SenderStats> {
    const nowMs = performance.now();
    if (this.#stats === undefined || nowMs - this.#stats.atMs > STATS_REUSE_MS) {
      this.#stats = { atMs: nowMs, promise: this.#sender.stats() };
    }
    return this.#stats.promise;
  }

  #registerSender(): void {
    const registers = [this.registry];
    const sender = this.#sender;
    new Gauge({
      name: 'robocam_signaling_connected',
      help: 'Whether the sender is registered with the signaling server (1) or not (0)',
      registers,
      collect() {
        this.set(sender.signalingState === 'open' ? 1 : 0);
      },
    });
    const read = (): Promise<SenderStats> => this.#read();
    new Gauge({
      name: 'robocam_viewers',
      help: 'Open viewer sessions (all of them, also those beyond the per-viewer series cap)',
      registers,
      async collect() {
        this.set((await read()).sessions.length);
      },
    });
  }

  #registerCameras(): void {
    const registers = [this.registry];
    const read = (): Promise<SenderStats> => this.#read();
    const sender = this.#sender;
    const camera = ['camera'] as const;
    const perCamera = (
      fill: (
        set: (labels: Record<string, string>, value: number | undefined) => void,
        stats: SenderStats,
      ) => void,
    ) =>
      async function collect(this: Gauge | Counter): Promise<void> {
        const stats = await read();
        this.reset();
        fill((labels, value) => {
          if (value === undefined || !Number.isFinite(value)) return;
          if (this instanceof Counter) this.inc(labels, value);
          else this.set(labels, value);
        }, stats);
      };
    type Camera = SenderStats['cameras'][number];
    const cameraRows = async (): Promise<{ labels: Record<string, string>; row: Camera }[]> =>
      (await read()).cameras.map((row) => ({ labels: { camera: row.id }, row }));
    const gauge = (name: string, help: string, value: (c: Camera) => number | undefined): void => {
      perRowMetric('gauge', { name, help, labelNames: camera, registers }, cameraRows, value);
    };
    const counter = (name: string, help: string, value: (c: Camera) => number | undefined): void => {
      perRowMetric('counter', { name, help, labelNames: camera, registers }, cameraRows, value);
    };
    new Gauge({
      name: 'robocam_camera_state',
      help: 'The camera state: 1 for the current one (idle: nobody watches, live, lost: device gone)',
      labelNames: ['camera', 'state'] as const,
      registers,
      collect() {
        this.reset();
        for (const [id, c] of sender.cameras) {
          for (const state of CAMERA_STATUSES)
            this.set({ camera: id, state }, c.info.status === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'robocam_camera_fps',
      help: 'Frame rate the camera was configured (or negotiated) at',
      labelNames: camera,
      registers,
      collect() {
        this.reset();
        for (const [id, c] of sender.cameras) this.set({ camera: id }, c.info.fps);
      },
    });
    new Gauge({
      name: 'robocam_camera_encoder_info',
      help: 'The encoder in use (1; absent while the camera is not encoding)',
      labelNames: ['camera', 'codec', 'implementation'] as const,
      registers,
      collect: perCamera((set, stats) => {
        for (const c of stats.cameras) {
          const cam = sender.cameras.get(c.id);
          if (c.encoder !== undefined && cam !== undefined)
            set({ camera: c.id, codec: cam.codec, implementation: c.encoder }, 1);
        }
      }),
    });
    gauge('robocam_camera_running', 'Whether the camera captures and encodes (someone watches)', (c) =>
      c.running ? 1 : 0,
    );
    gauge('robocam_camera_viewers', 'Viewer tracks fed by the camera', (c) => c.viewers);
    gauge(
      'robocam_camera_target_bitrate_bps',
      "The encoder's target: the configured bitrate, lowered by congestion control",
      (c) => (c.bitrateKbps === undefined ? undefined : c.bitrateKbps * 1000),
    );
    gauge('robocam_camera_max_bitrate_bps', 'The configured bitrate (the most the encoder is given)', (c) =>
      c.maxBitrateKbps === undefined ? undefined : c.maxBitrateKbps * 1000,
    );
    gauge('robocam_camera_encoded_width_pixels', 'Width frames are encoded at now', (c) => c.encodedWidth);
    gauge('robocam_camera_encoded_height_pixels', 'Height frames are encoded at now', (c) => c.encodedHeight);
    gauge(
      'robocam_camera_temporal_layers',
      'Temporal layers the encoder makes (1: none)',
      (c) => c.temporalLayers,
    );
    counter(
      'robocam_camera_frames_captured_total',
      'Frames from the source (rate() = capture fps)',
      (c) => c.framesCaptured,
    );
    counter('robocam_camera_frames_encoded_total', 'Frames encoded', (c) => c.framesEncoded);
    counter('robocam_camera_encoded_bytes_total', 'Bytes the encoder produced', (c) => c.bytesEncoded);
    counter('robocam_camera_packets_sent_total', 'RTP packets handed to viewers', (c) => c.packetsSent);
    counter('robocam_camera_encoder_starts_total', 'Times the encoder was opened', (c) => c.encoderStarts);
    counter(
      'robocam_camera_resolution_changes_total',
      'Times the encoded size changed (congestion control halving it or restoring it)',
      (c) => c.resolutionChanges,
    );
    counter(
      'robocam_camera_keyframe_requests_coalesced_total',
      'Keyframe requests (PLI/FIR/joins) served by a keyframe already on its way',
      (c) => c.keyframeRequestsCoalesced,
    );
    new Counter({
      name: 'robocam_camera_frames_dropped_total',
      help: 'Frames captured but not encoded, by reason: encoder (busy, not ready, or no viewer yet), bitrate (over a lowered target)',
      labelNames: ['camera', 'reason'] as const,
      registers,
      collect: perCamera((set, stats) => {
        for (const c of stats.cameras) {
          set({ camera: c.id, reason: 'encoder' }, c.framesDropped - c.framesSkippedForBitrate);
          set({ camera: c.id, reason: 'bitrate' }, c.framesSkippedForBitrate);
        }
      }),
    });
    new Counter({
      name: 'robocam_camera_keyframes_total',
      help: 'Keyframes encoded, by reason (first, join, pli, fir, periodic, reopen, encoder)',
      labelNames: ['camera', 'reason'] as const,
      registers,
      collect: perCamera((set, stats) => {
        for (const c of stats.cameras) {
          for (const reason of KEYFRAME_REASONS) set({ camera: c.id, reason }, c.keyframes[reason]);
        }
      }),
    });
    const encodeSeconds = new Histogram({
      name: 'robocam_camera_encode_seconds',
      help: 'Time to encode one frame',
      labelNames: camera,
      buckets: ENCODE_BUCKETS_S,
      registers,
    });
    for (const [id, cam] of sender.cameras) {
      // Every camera of a Sender is a CameraPipeline; the encoded event is internal to the package.
      if (!(cam instanceof CameraPipeline)) continue;
      const child = encodeSeconds.labels({ camera: id });
      const onEncoded = (frame: EncodedFrame): void => {
        child.observe(frame.encodeMs / 1000);
      };
      cam.on('encoded', onEncoded);
      this.#unsubscribe.push(() => cam.off('encoded', onEncoded));
    }
  }

  #registerViewers(): void {
    const registers = [this.registry];
    const slots = this.#slots;
    const read = async (): Promise<ViewerRow[]> => {
      const stats = await this.#read();
      return slots.assign(stats.sessions);
    };
    type Session = SenderStats['sessions'][number];
    const viewer = ['viewer'] as const;
    const viewerRows = async (): Promise<{ labels: Record<string, string>; row: Session }[]> =>
      (await read()).map(({ slot, session }) => ({ labels: { viewer: slot }, row: session }));
    const gauge = (name: string, help: string, value: (s: Session) => number | undefined): void => {
      perRowMetric('gauge', { name, help, labelNames: viewer, registers }, viewerRows, value);
    };
    const counter = (name: string, help: string, value: (s: Session) => number | undefined): void => {
      perRowMetric('counter', { name, help, labelNames: viewer, registers }, viewerRows, value);
    };
    gauge(
      'robocam_viewer_connected',
      'Whether the viewer session is connected (1) or still connecting (0)',
      (s) => (s.connectionState === 'connected' ? 1 : 0),
    );
    gauge('robocam_viewer_rtt_seconds', 'Round-trip time from RTCP receiver reports', (s) => {
      const ms = s.link?.rttMs ?? s.rttMs;
      return ms === undefined ? undefined : ms / 1000;
    });
    gauge(
      'robocam_viewer_fraction_lost',
      'Fraction of packets lost in the last judged window (0..1)',
      (s) => s.link?.lossFraction,
    );
    gauge(
      'robocam_viewer_estimated_bandwidth_bps',
      "Congestion control's estimate of what the viewer's link carries",
      (s) => (s.link === undefined ? undefined : s.link.estimateKbps * 1000),
    );
    gauge(
      'robocam_viewer_received_bps',
      'What the viewer acknowledged receiving over the last ~0.5 s',
      (s) => (s.link?.receivedKbps === undefined ? undefined : s.link.receivedKbps * 1000),
    );
    gauge('robocam_viewer_pacer_queue_seconds', 'Media waiting in the pacer, at the current estimate', (s) =>
      s.link === undefined ? undefined : s.link.pacerQueueMs / 1000,
    );
    counter(
      'robocam_viewer_bytes_sent_total',
      'Bytes sent to the viewer (RTP, all cameras)',
      (s) => s.bytesSent,
    );
    counter('robocam_viewer_packets_sent_total', 'RTP packets sent to the viewer', (s) => s.packetsSent);
    counter('robocam_viewer_nacks_total', 'RTCP NACKs received from the viewer', (s) => s.nacksReceived);
    counter(
      'robocam_viewer_plis_total',
      'RTCP PLIs (picture loss) received from the viewer',
      (s) => s.plisReceived,
    );
    counter(
      'robocam_viewer_firs_total',
      'RTCP FIRs (full intra requests) received from the viewer',
      (s) => s.firsReceived,
    );
    counter(
      'robocam_viewer_retransmissions_total',
      'NACKed packets retransmitted',
      (s) => s.link?.retransmissions,
    );
    counter(
      'robocam_viewer_retransmissions_denied_total',
      'NACKed packets not retransmitted (over the retransmission budget)',
      (s) => s.link?.retransmissionsDenied,
    );
    counter(
      'robocam_viewer_pacer_frames_dropped_total',
      'Frames the pacer dropped to keep its queue short',
      (s) => s.link?.pacerFramesDropped,
    );
    new Gauge({
      name: 'robocam_viewer_temporal_layer',
      help: 'Temporal layer the viewer gets of a camera (0: base layer only)',
      labelNames: ['viewer', 'camera'] as const,
      registers,
      async collect() {
        const rows = await read();
        this.reset();
        for (const { slot, session } of rows) {
          for (const track of session.tracks) {
            if (track.temporalLayer !== undefined)
              this.set({ viewer: slot, camera: track.camera }, track.temporalLayer);
          }
        }
      },
    });
    new Counter({
      name: 'robocam_viewer_layer_frames_skipped_total',
      help: 'Frames of a camera not sent to the viewer because of their temporal layer',
      labelNames: ['viewer', 'camera'] as const,
      registers,
      async collect() {
        const rows = await read();
        this.reset();
        for (const { slot, session } of rows) {
          for (const track of session.tracks)
            this.inc({ viewer: slot, camera: track.camera }, track.framesSkipped);
        }
      },
    });
    new Gauge({
      name: 'robocam_viewer_series_overflow',
      help: 'Open sessions without series of their own (beyond the per-viewer series cap)',
      registers,
      async collect() {
        await read();
        this.set(slots.overflow);
      },
    });
  }

  #registerPublications(): void {
    const registers = [this.registry];
    const read = (): Promise<SenderStats> => this.#read();
    const labelNames = ['publication', 'camera'] as const;
    type Publication = SenderStats['publications'][number];
    const publicationRows = async (): Promise<{ labels: Record<string, string>; row: Publication }[]> =>
      (await read()).publications.map((row) => ({
        labels: { publication: row.id, camera: row.camera },
        row,
      }));
    const perPublication = (
      name: string,
      help: string,
      value: (p: Publication) => number | undefined,
      kind: 'gauge' | 'counter' = 'gauge',
    ): void => {
      perRowMetric(kind, { name, help, labelNames, registers }, publicationRows, value);
    };
    new Gauge({
      name: 'robocam_publication_state',
      help: 'WHIP publication state (1 for the current one): connecting, connected, reconnecting, failed',
      labelNames: [...labelNames, 'state'] as const,
      registers,
      async collect() {
        const { publications } = await read();
        this.reset();
        for (const publication of publications) {
          for (const state of ['connecting', 'connected', 'reconnecting', 'failed'] as const) {
            this.set(
              { publication: publication.id, camera: publication.camera, state },
              publication.state === state ? 1 : 0,
            );
          }
        }
      },
    });
    perPublication(
      'robocam_publication_bitrate_bps',
      'Media sent to the server over the last second',
      (p) => p.bitrateKbps * 1000,
    );
    perPublication('robocam_publication_rtt_seconds', 'Round-trip time to the media server (RTCP)', (p) =>
      p.rttMs === undefined ? undefined : p.rttMs / 1000,
    );
    perPublication(
      'robocam_publication_estimated_bandwidth_bps',
      "Congestion control's estimate of the link to the server",
      (p) => (p.link === undefined ? undefined : p.link.estimateKbps * 1000),
    );
    perPublication(
      'robocam_publication_attempts_total',
      'Sessions the publication tried (POSTs)',
      (p) => p.attempts,
      'counter',
    );
    perPublication(
      'robocam_publication_sessions_connected_total',
      'Sessions that connected',
      (p) => p.sessionsConnected,
      'counter',
    );
    perPublication(
      'robocam_publication_bytes_sent_total',
      'Bytes sent in the current session',
      (p) => p.bytesSent,
      'counter',
    );
    perPublication(
      'robocam_publication_plis_total',
      'PLIs from the server in the current session',
      (p) => p.plisReceived,
      'counter',
    );
    perPublication(
      'robocam_publication_nacks_total',
      'NACKs from the server in the current session',
      (p) => p.nacksReceived,
      'counter',
    );
  }

  #registerControl(): void {
    const registers = [this.registry];
    const read = (): Promise<SenderStats> => this.#read();
    new Gauge({
      name: 'robocam_control_lease_held',
      help: 'Whether a viewer holds the control lease (drives the robot)',
      registers,
      async collect() {
        this.set((await read()).control.lease === undefined ? 0 : 1);
      },
    });
    new Counter({
      name: 'robocam_control_commands_total',
      help: 'Teleop commands received, by result: applied, or dropped (late, out_of_order, without_lease, rate_limited)',
      labelNames: ['result'] as const,
      registers,
      async collect() {
        const { control } = await read();
        this.reset();
        this.inc({ result: 'applied' }, control.commandsApplied);
        this.inc({ result: 'late' }, control.commandsLate);
        this.inc({ result: 'out_of_order' }, control.commandsOutOfOrder);
        this.inc({ result: 'without_lease' }, control.commandsWithoutLease);
        this.inc({ result: 'rate_limited' }, control.commandsRateLimited);
      },
    });
    new Counter({
      name: 'robocam_control_messages_rejected_total',
      help: 'Data-channel messages rejected: malformed, oversized, binary, or over the rate limit',
      registers,
      async collect() {
        this.reset();
        this.inc((await read()).control.messagesRejected);
      },
    });
  }
}

interface ViewerRow {
  slot: string;
  session: SenderStats['sessions'][number];
}

/**
 * Gives each session a small number (the smallest free one) for as long as it is open, at most
 * `max` of them: the `viewer` label's values are 0..max-1 however many sessions come and go.
 */
export class ViewerSlots {
  readonly #max: number;
  readonly #bySession = new Map<string, number>();
  #overflow = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** Sessions in the last {@link assign} that got no slot. */
  get overflow(): number {
    return this.#overflow;
  }

  /** Frees the slots of sessions no longer listed and gives the new ones a slot while any is free. */
  assign<S extends { id: string }>(sessions: readonly S[]): { slot: string; session: S }[] {
    const open = new Set(sessions.map((session) => session.id));
    for (const id of this.#bySession.keys()) if (!open.has(id)) this.#bySession.delete(id);
    const used = new Set(this.#bySession.values());
    const rows: { slot: string; session: S }[] = [];
    let overflow = 0;
    let next = 0;
    for (const session of sessions) {
      let slot = this.#bySession.get(session.id);
      if (slot === undefined) {
        while (used.has(next)) next += 1;
        if (next >= this.#max) {
          overflow += 1;
          continue;
        }
        slot = next;
        used.add(slot);
        this.#bySession.set(session.id, slot);
      }
      rows.push({ slot: String(slot), session });
    }
    this.#overflow = overflow;
    return rows;
  }
}

/**
 * Registers a gauge or a counter with one sample per row `rows()` lists at scrape time (a camera,
 * a viewer, a publication): the row's labels and `value(row)`; rows without a finite value are
 * left out. Counters mirror totals the sender keeps, so they are reset and set on every scrape.
 */
function perRowMetric<R>(
  kind: 'gauge' | 'counter',
  settings: { name: string; help: string; labelNames: readonly string[]; registers: Registry[] },
  rows: () => Promise<{ labels: Record<string, string>; row: R }[]>,
  value: (row: R) => number | undefined,
): void {
  const collect = async function (this: Gauge | Counter): Promise<void> {
    const listed = await rows();
    this.reset();
    for (const { labels, row } of listed) {
      const v = value(row);
      if (v === undefined || !Number.isFinite(v)) continue;
      if (this instanceof Counter) this.inc(labels, v);
      else this.set(labels, v);
    }
  };
  if (kind === 'counter') new Counter({ ...settings, labelNames: [...settings.labelNames], collect });
  else new Gauge({ ...settings, labelNames: [...settings.labelNames], collect });
}
