/**
 * The connectivity doctor's reasoning: from what is known of one viewing session (candidates on
 * each side, ICE/DTLS states with their timings, RTP and decoded frames, the sender's report of its
 * camera and encoder) to one plain-language verdict with the next step. Pure (no DOM, no clock):
 * the page's panel, `window.robocam` and tests feed it facts.
 */

/** ICE candidate types (RFC 8445 §5.1.1; `prflx` is learned from checks, never announced). */
export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

/** What the doctor needs of one candidate. */
export interface CandidateInfo {
  type: CandidateType;
  protocol: 'udp' | 'tcp';
  /** `mdns`: a browser's `.local` name hiding its address. */
  family: 'ipv4' | 'ipv6' | 'mdns';
  address: string;
  port: number;
}

/**
 * Parses an SDP candidate (`candidate:… 1 udp 2122260223 192.168.1.5 54321 typ host …`, with or
 * without the `a=` prefix); undefined when it is not one.
 */
export function parseCandidate(line: string): CandidateInfo | undefined {
  const match =
    /^(?:a=)?candidate:\S+ \d+ (udp|tcp) \d+ (\S+) (\d+) typ (host|srflx|prflx|relay)(?: |$)/i.exec(
      line.trim(),
    );
  if (match === null) return undefined;
  const [, protocol = '', address = '', port = '', type = ''] = match;
  const family = address.endsWith('.local') ? 'mdns' : address.includes(':') ? 'ipv6' : 'ipv4';
  return {
    type: type.toLowerCase() as CandidateType,
    protocol: protocol.toLowerCase() as 'udp' | 'tcp',
    family,
    address,
    port: Number(port),
  };
}

/** Everything known of one viewing session, as the page's probe collects it. */
export interface ConnectivityFacts {
  /** Time since the offer was sent, ms. */
  elapsedMs: number;
  /** The sender's answer arrived. */
  answered: boolean;
  /**
   * The page gave up on the session (its connect timeout, or ICE/DTLS failed): a step not reached
   * by then failed, whatever the deadlines say. Default false.
   */
  ended?: boolean;
  /** The browser's candidates (gathered) and the sender's (trickled or in its answer). */
  localCandidates: readonly CandidateInfo[];
  remoteCandidates: readonly CandidateInfo[];
  /** The browser finished gathering. */
  gatheringComplete: boolean;
  /** RTCIceConnectionState: new, checking, connected, completed, disconnected, failed, closed. */
  iceState: string;
  /** RTCDtlsTransportState (new, connecting, connected, closed, failed), or null before there is one. */
  dtlsState: string | null;
  /** When each ICE/DTLS state was first entered, ms after the offer (`ice:checking`, `dtls:connected`, …). */
  timings: Readonly<Record<string, number>>;
  /** The pair ICE selected, once there is one. */
  selectedPair: { local: CandidateInfo; remote: CandidateInfo; rttMs: number | null } | null;
  /** RTP packets of the video received by the browser, and frames it decoded. */
  packetsReceived: number;
  framesDecoded: number;
  /** The sender reports the camera lost (null: unknown), with its reason. */
  cameraLost: boolean | null;
  cameraDetail?: string;
  /**
   * The sender's encoder cannot keep up: it drops frames (null: unknown). The page learns it from
   * the sender's link-stats or /stats.
   */
  senderCpuBound: boolean | null;
}

/** The doctor's verdicts, most specific first. */
export type VerdictCode =
  | 'playing'
  | 'connecting'
  | 'camera-lost'
  | 'no-answer'
  | 'no-sender-candidates'
  | 'no-common-family'
  | 'no-udp-path'
  | 'relay-failed'
  | 'dtls-failed'
  | 'interrupted'
  | 'no-rtp'
  | 'not-decoding'
  | 'sender-cpu-bound'
  // The sender's side alone (diagnoseSender):
  | 'idle'
  | 'not-registered'
  | 'sessions-failed';

export interface Verdict {
  code: VerdictCode;
  /** true when nothing is wrong (playing, or still within the normal time to connect). */
  ok: boolean;
  /** What happened, in one sentence. */
  summary: string;
  /** What to do about it; empty when nothing is needed. */
  nextStep: string;
}

/** A verdict with the facts behind it (a tile's doctor panel; `window.robocam` tiles' `doctor`). */
export interface DoctorReport {
  verdict: Verdict;
  facts: ConnectivityFacts;
}

/** Deadlines after which a step that has not happened is a failure, ms. */
export interface DoctorDeadlines {
  /** From the offer to the sender's answer. Default 10 000 (the page's own connect timeout). */
  answerMs?: number;
  /** From the offer to ICE connected. Default 10 000. */
  connectMs?: number;
  /** From ICE connected to the first RTP packet, and from it to the first decoded frame. Default 3 000. */
  mediaMs?: number;
}

const describePair = (pair: NonNullable<ConnectivityFacts['selectedPair']>): string =>
  `${pair.local.type}/${pair.local.protocol} ${pair.local.family} ↔ ${pair.remote.type}/${pair.remote.protocol} ${pair.remote.family}`;

/** The verdict for `facts`: the first of the rules below that applies. */
export function diagnose(
  facts: ConnectivityFacts,
  { answerMs = 10_000, connectMs = 10_000, mediaMs = 3_000 }: DoctorDeadlines = {},
): Verdict {
  const fail = (code: VerdictCode, summary: string, nextStep: string): Verdict => ({
    code,
    ok: false,
    summary,
    nextStep,
  });
  const ended = facts.ended === true;
  const iceFailed =
    facts.iceState === 'failed' ||
    ((facts.iceState === 'new' || facts.iceState === 'checking') && (ended || facts.elapsedMs > connectMs));
  const connectedAt = facts.timings['ice:connected'] ?? facts.timings['ice:completed'];
  const sinceConnected = connectedAt === undefined ? 0 : facts.elapsedMs - connectedAt;

  if (facts.cameraLost === true) {
    return fail(
      'camera-lost',
      `The camera is lost on the robot${facts.cameraDetail === undefined ? '' : `: ${facts.cameraDetail}`}.`,
      'Check its cable and power; the sender reopens it on its own and the video resumes.',
    );
  }
  if (!facts.answered) {
    if (!ended && facts.elapsedMs <= answerMs) return connecting('Waiting for the sender to answer.');
    return fail(
      'no-answer',
      'The sender did not answer the offer.',
      'Check that the sender is running and registered (its /healthz) and look at its log.',
    );
  }
  if (facts.dtlsState === 'failed') {
    return fail(
      'dtls-failed',
      'ICE found a path but the DTLS handshake over it failed.',
      'Something on the path alters or blocks the handshake (a firewall inspecting UDP, an MTU too small): try a TURN server over TCP or TLS, and check the sender log.',
    );
  }
  if (iceFailed) {
    const remote = facts.remoteCandidates;
    if (remote.length === 0) {
      return fail(
        'no-sender-candidates',
        'The sender announced no address to reach it at.',
        'Set ANNOUNCED_IPS on the sender to an address this browser can reach, or configure TURN (ICE_SERVERS).',
      );
    }
    // A browser's .local name may hide either family: then no mismatch can be told.
    const local = facts.localCandidates;
    const localFamilies = local.some((c) => c.family === 'mdns')
      ? undefined
      : new Set(local.map((c) => c.family));
    const relayed = [...local, ...remote].some((c) => c.type === 'relay');
    if (
      !relayed &&
      localFamilies !== undefined &&
      localFamilies.size > 0 &&
      !remote.some((c) => c.family === 'mdns' || localFamilies.has(c.family))
    ) {
      return fail(
        'no-common-family',
        `The sender offers only ${[...new Set(remote.map((c) => c.family))].join('/')} addresses and this browser has none of that family.`,
        'Announce an address of the family the viewers use (ANNOUNCED_IPS), or configure TURN.',
      );
    }
    if (relayed) {
      return fail(
        'relay-failed',
        'Not even the TURN relay connected.',
        'Check the TURN URL, its credentials (static or the shared secret) and that the TURN port is open from both the browser and the robot.',
      );
    }
    // The addresses tried, so that a wrong ANNOUNCED_IPS (or a robot's private address behind NAT)
    // shows in the verdict itself: the facts list only counts per candidate type.
    const addresses = [...new Set(remote.map((c) => `${c.address}:${c.port}`))];
    return fail(
      'no-udp-path',
      `No UDP path between the browser and the robot: every address pair was tried, none answered (the robot offered ${addresses.join(', ')}).`,
      "Open the sender's UDP ports in the robot's firewall (RTC_PORT_RANGE, e.g. 40000–40100) and announce a reachable address (ANNOUNCED_IPS), or configure TURN (ICE_SERVERS) for both the sender and the page.",
    );
  }
  if (facts.iceState === 'disconnected') {
    return fail(
      'interrupted',
      'The connection was interrupted: no packets from the robot for a few seconds.',
      'Usually a network change (Wi-Fi roaming, a mobile link); it resumes or reconnects on its own. If it repeats, the link is too weak for the bitrate.',
    );
  }
  if (connectedAt === undefined) return connecting('Checking address pairs (ICE).');
  if (facts.packetsReceived === 0) {
    // No media before DTLS is up is the handshake's doing, not the sender's: a loaded machine took
    // over 3 s (mediaMs) to fail a handshake with a wrong fingerprint, which read as `no-rtp`.
    if (facts.dtlsState === 'new' || facts.dtlsState === 'connecting') {
      if (!ended && sinceConnected <= connectMs) return connecting('Connected; DTLS handshake in progress.');
      return fail(
        'dtls-failed',
        'ICE found a path but the DTLS handshake over it did not complete.',
        'Something on the path alters or blocks the handshake (a firewall inspecting UDP, an MTU too small): try a TURN server over TCP or TLS, and check the sender log.',
      );
    }
    if (!ended && sinceConnected <= mediaMs) {
      return connecting('Connected; waiting for the first video packet.');
    }
    return fail(
      'no-rtp',
      'Connected, but no video packets arrive.',
      'The sender is not sending (is the camera running? see its /stats), or something on the path drops media after the handshake.',
    );
  }
  if (facts.framesDecoded === 0) {
    if (!ended && sinceConnected <= 2 * mediaMs) {
      return connecting('Video packets arrive; waiting for a decodable frame.');
    }
    return fail(
      'not-decoding',
      'Video packets arrive but no frame decodes.',
      'This browser may lack a decoder for the codec (Firefox has no H.264 here): set CODEC=vp8 on the sender.',
    );
  }
  if (facts.senderCpuBound === true) {
    return fail(
      'sender-cpu-bound',
      'The sender is CPU-bound: its encoder drops frames.',
      'Lower the camera resolution or frame rate (CAMERAS), or use a hardware encoder (ENCODER) if the robot has one.',
    );
  }
  return {
    code: 'playing',
    ok: true,
    summary: facts.selectedPair === null ? 'Playing.' : `Playing over ${describePair(facts.selectedPair)}.`,
    nextStep: '',
  };
}

function connecting(summary: string): Verdict {
  return { code: 'connecting', ok: true, summary, nextStep: '' };
}

/** What the sender knows of itself, for {@link diagnoseSender} (a robot's `/doctor` endpoint). */
export interface SenderFacts {
  /** The sender's signaling state (`open` once registered). */
  signaling: string;
  cameras: readonly {
    id: string;
    /** Reported lost (unplugged, failing), with the reason. */
    lost: boolean;
    detail?: string;
    /** Encoding (someone watches). */
    running: boolean;
    /** The camera's frame rate, frames per second. */
    fps: number;
    /** Mean time to encode a frame, ms. */
    encodeMsAvg: number;
  }[];
  sessions: readonly { id: string; connectionState: string; packetsSent: number }[];
}

/**
 * The verdict of the robot's side alone (no browser facts): not registered, a lost camera, an
 * encoder slower than the camera's frame interval (it must drop frames), viewer sessions that
 * failed to connect, else playing or idle. Which side's path failed only the browser can tell:
 * the tile's panel.
 */
export function diagnoseSender(facts: SenderFacts): Verdict {
  const fail = (code: VerdictCode, summary: string, nextStep: string): Verdict => ({
    code,
    ok: false,
    summary,
    nextStep,
  });
  if (facts.signaling !== 'open') {
    return fail(
      'not-registered',
      `The sender is not registered with the signaling server (${facts.signaling}).`,
      'Check SIGNALING_URL and SENDER_TOKEN, and that the signaling server runs; the sender keeps retrying.',
    );
  }
  const lost = facts.cameras.filter((camera) => camera.lost);
  if (lost.length > 0) {
    return fail(
      'camera-lost',
      `Camera lost: ${lost.map((c) => (c.detail === undefined ? c.id : `${c.id} (${c.detail})`)).join(', ')}.`,
      'Check its cable and power; the sender reopens it on its own and the video resumes.',
    );
  }
  // Encoding a frame takes most of the time between two frames: the encoder cannot keep up and
  // frames are dropped (10 % margin for the rest of the per-frame work).
  const slow = facts.cameras.filter((c) => c.running && c.fps > 0 && c.encodeMsAvg > (0.9 * 1000) / c.fps);
  if (slow.length > 0) {
    return fail(
      'sender-cpu-bound',
      `The sender is CPU-bound: encoding ${slow.map((c) => `${c.id} takes ${Math.round(c.encodeMsAvg)} ms a frame at ${c.fps} fps`).join(', ')}; frames are dropped.`,
      'Lower the camera resolution or frame rate (CAMERAS), or use a hardware encoder (ENCODER) if the robot has one.',
    );
  }
  const failed = facts.sessions.filter((s) => s.connectionState === 'failed');
  if (failed.length > 0) {
    return fail(
      'sessions-failed',
      `${failed.length} viewer session(s) could not connect.`,
      "Open the doctor panel under the tile in the viewer's browser: it tells which path failed and what to open.",
    );
  }
  if (facts.sessions.length === 0) {
    return { code: 'idle', ok: true, summary: 'Registered; nobody watches.', nextStep: '' };
  }
  const playing = facts.sessions.filter((s) => s.connectionState === 'connected' && s.packetsSent > 0);
  if (playing.length === 0) return connecting('Viewer sessions are connecting.');
  return {
    code: 'playing',
    ok: true,
    summary: `Streaming to ${playing.length} viewer session(s).`,
    nextStep: '',
  };
}
