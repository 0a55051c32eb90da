import {
  diagnose,
  parseCandidate,
  type CandidateInfo,
  type CandidateType,
  type ConnectivityFacts,
  type DoctorReport,
} from '../doctor.js';
import { h, setText } from './dom.js';
import type { WatchSession } from './watch-session.js';

const SAMPLE_MS = 1_000;

/**
 * The connectivity doctor on a tile: watches the tile's current session (its peer connection's
 * events and stats, once a second) and shows the verdict of {@link diagnose} with the facts. The
 * last session's report stays after it ended, so a tile that shows no video says why until the next
 * session gets further.
 */
export class DoctorPanel {
  readonly element: HTMLDetailsElement;
  readonly #summary: HTMLElement;
  readonly #nextStep: HTMLElement;
  readonly #facts: HTMLElement;
  readonly #camera: () => { lost: boolean; detail: string | undefined };
  #session: WatchSession | undefined;
  #timings: Record<string, number> = {};
  #localCandidates: CandidateInfo[] = [];
  /** The DTLS transport's last state as its own events told it (the stats may never see `failed`). */
  #dtlsState: string | undefined;
  /** The last ICE connection state its events told (a closed connection reports `closed`). */
  #iceState: string | undefined;
  #report: DoctorReport | undefined;
  /** The report is the camera's alone: no session ran since the panel was created. */
  #sessionless = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(camera: () => { lost: boolean; detail: string | undefined }) {
    this.#camera = camera;
    this.#summary = h('span', { class: 'verdict' }, 'no session yet');
    this.#nextStep = h('p', { class: 'next-step' });
    this.#facts = h('dl');
    this.element = h(
      'details',
      { class: 'doctor', attrs: { 'aria-label': 'connectivity doctor' } },
      h('summary', {}, 'doctor: ', this.#summary),
      this.#nextStep,
      this.#facts,
    );
    // Opening the panel is not a click on the tile (which enlarges it).
    this.element.addEventListener('click', (event) => {
      event.stopPropagation();
    });
  }

  /** The latest report, or null before the first session. */
  get report(): DoctorReport | null {
    return this.#report ?? null;
  }

  /** Follows `session` from now on (the tile's newest). */
  watch(session: WatchSession): void {
    this.#session = session;
    this.#timings = {};
    this.#localCandidates = [];
    this.#dtlsState = undefined;
    this.#iceState = undefined;
    const { pc } = session;
    const mark = (name: string): void => {
      if (this.#session === session)
        this.#timings[name] ??= Math.round(performance.now() - session.startedAt);
    };
    // A failed DTLS handshake fails the connection at once and the session closes it within the
    // same task, before a once-a-second stats sample saw `failed` (doctor.e2e.ts's DTLS case, without
    // this: 2 runs of 2, read as "no sender candidates"): follow the transport's own events (it
    // exists once the offer is set locally; a browser without `receiver.transport` skips this).
    let followedDtls = false;
    const followDtls = (): void => {
      const transport = pc.getReceivers()[0]?.transport ?? null;
      if (followedDtls || transport === null) return;
      followedDtls = true;
      transport.addEventListener('statechange', () => {
        if (this.#session !== session || transport.state === 'closed') return;
        this.#dtlsState = transport.state;
        mark(`dtls:${transport.state}`);
      });
    };
    pc.addEventListener('signalingstatechange', followDtls);
    pc.addEventListener('icecandidate', (event) => {
      const candidate = event.candidate === null ? undefined : parseCandidate(event.candidate.candidate);
      if (candidate !== undefined && this.#session === session) this.#localCandidates.push(candidate);
    });
    pc.addEventListener('icegatheringstatechange', () => {
      followDtls();
      mark(`gathering:${pc.iceGatheringState}`);
    });
    pc.addEventListener('iceconnectionstatechange', () => {
      if (this.#session === session) this.#iceState = pc.iceConnectionState;
      mark(`ice:${pc.iceConnectionState}`);
    });
    pc.addEventListener('connectionstatechange', () => {
      mark(`peer:${pc.connectionState}`);
    });
    clearInterval(this.#timer);
    this.#timer = setInterval(() => {
      void this.#sample(session);
    }, SAMPLE_MS);
  }

  /**
   * The camera's status changed (the tile calls this with each update of it). A tile starts no
   * session for a lost camera, so without a running session the panel gives its verdict from the
   * camera alone: lost, or (back again) what the last session told, or nothing before the first.
   */
  cameraChanged(): void {
    if (this.#session !== undefined && !this.#session.closed) return; // the next sample tells
    const { lost, detail } = this.#camera();
    const last = this.#sessionless ? undefined : this.#report?.facts;
    if (!lost && last === undefined) {
      if (this.#report === undefined) return;
      this.#report = undefined;
      this.#sessionless = false;
      delete this.element.dataset.verdict;
      delete this.element.dataset.ok;
      setText(this.#summary, 'no session yet');
      setText(this.#nextStep, '');
      this.#facts.replaceChildren();
      return;
    }
    this.#sessionless = last === undefined;
    const facts = { ...(last ?? NO_SESSION), cameraLost: lost, cameraDetail: detail };
    this.#report = { verdict: diagnose(facts), facts };
    this.#render(this.#report);
  }

  /** Stops sampling (the tile is removed). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #sample(session: WatchSession): Promise<void> {
    if (session !== this.#session) return;
    const ended = session.closed;
    if (ended) this.close();
    const { pc } = session;
    const facts: ConnectivityFacts = {
      elapsedMs: Math.round(performance.now() - session.startedAt),
      answered: pc.remoteDescription !== null,
      ended,
      localCandidates: this.#localCandidates,
      remoteCandidates: [],
      gatheringComplete: this.#timings['gathering:complete'] !== undefined,
      iceState: ended ? (this.#iceState ?? this.#report?.facts.iceState ?? 'new') : pc.iceConnectionState,
      dtlsState: this.#dtlsState ?? this.#report?.facts.dtlsState ?? null,
      timings: { ...this.#timings },
      selectedPair: this.#report?.facts.selectedPair ?? null,
      packetsReceived: this.#report?.facts.packetsReceived ?? 0,
      framesDecoded: this.#report?.facts.framesDecoded ?? 0,
      cameraLost: this.#camera().lost,
      cameraDetail: this.#camera().detail,
      senderCpuBound: null,
    };
    if (!ended) {
      try {
        Object.assign(facts, readStats(await pc.getStats()));
      } catch {
        // closed meanwhile: keep the last reading
      }
      if (facts.dtlsState !== null) this.#timings[`dtls:${facts.dtlsState}`] ??= facts.elapsedMs;
    } else {
      facts.remoteCandidates = this.#report?.facts.remoteCandidates ?? [];
    }
    if (session !== this.#session) return;
    this.#report = { verdict: diagnose(facts), facts };
    this.#sessionless = false;
    this.#render(this.#report);
  }

  #render({ verdict, facts }: DoctorReport): void {
    this.element.dataset.verdict = verdict.code;
    this.element.dataset.ok = String(verdict.ok);
    setText(this.#summary, verdict.summary);
    setText(this.#nextStep, verdict.nextStep);
    const rows: [string, string][] = [
      ['browser candidates', describeCandidates(facts.localCandidates)],
      ['robot candidates', describeCandidates(facts.remoteCandidates)],
      [
        'selected pair',
        facts.selectedPair === null
          ? '–'
          : `${describeCandidate(facts.selectedPair.local)} ↔ ${describeCandidate(facts.selectedPair.remote)}${
              facts.selectedPair.rttMs === null ? '' : `, RTT ${facts.selectedPair.rttMs} ms`
            }`,
      ],
      ['ICE / DTLS', `${facts.iceState} / ${facts.dtlsState ?? '–'}`],
      [
        'timeline (ms after offer)',
        Object.entries(facts.timings)
          .sort(([, a], [, b]) => a - b)
          .map(([name, ms]) => `${name} ${ms}`)
          .join(', ') || '–',
      ],
      ['RTP packets / frames decoded', `${facts.packetsReceived} / ${facts.framesDecoded}`],
    ];
    this.#facts.replaceChildren(
      ...rows.flatMap(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]),
    );
  }
}

/** The facts of a tile that has not started a session (its camera lost). */
const NO_SESSION: ConnectivityFacts = {
  elapsedMs: 0,
  answered: false,
  ended: true,
  localCandidates: [],
  remoteCandidates: [],
  gatheringComplete: false,
  iceState: 'new',
  dtlsState: null,
  timings: {},
  selectedPair: null,
  packetsReceived: 0,
  framesDecoded: 0,
  cameraLost: null,
  senderCpuBound: null,
};

const describeCandidate = (c: CandidateInfo): string => `${c.type} ${c.protocol} ${c.address}:${c.port}`;

function describeCandidates(candidates: readonly CandidateInfo[]): string {
  if (candidates.length === 0) return 'none';
  const counts = new Map<string, number>();
  for (const c of candidates) {
    const key = `${c.type}/${c.protocol}/${c.family}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, count]) => `${count}× ${key}`).join(', ');
}

/** One `RTCStatsReport` entry, as far as the doctor reads it. */
interface StatsEntry {
  type: string;
  id: string;
  kind?: string;
  candidateType?: string;
  protocol?: string;
  address?: string;
  ip?: string;
  port?: number;
  dtlsState?: string;
  selectedCandidatePairId?: string;
  localCandidateId?: string;
  remoteCandidateId?: string;
  currentRoundTripTime?: number;
  packetsReceived?: number;
  framesDecoded?: number;
}

function candidateOf(entry: StatsEntry | undefined): CandidateInfo | undefined {
  const address = entry?.address ?? entry?.ip;
  if (entry === undefined || address === undefined || entry.candidateType === undefined) return undefined;
  const line = `candidate:0 1 ${entry.protocol ?? 'udp'} 0 ${address} ${entry.port ?? 0} typ ${entry.candidateType}`;
  return parseCandidate(line);
}

/** The facts the browser's stats tell: the sender's candidates, the selected pair, DTLS, media. */
function readStats(report: RTCStatsReport): Partial<ConnectivityFacts> {
  const entries = new Map<string, StatsEntry>();
  report.forEach((value: StatsEntry) => {
    entries.set(value.id, value);
  });
  const remoteCandidates: CandidateInfo[] = [];
  let dtlsState: string | null = null;
  let selectedPair: ConnectivityFacts['selectedPair'] = null;
  let packetsReceived = 0;
  let framesDecoded = 0;
  for (const entry of entries.values()) {
    if (entry.type === 'remote-candidate') {
      const candidate = candidateOf(entry);
      // prflx: learned from checks, not announced by the sender.
      if (candidate !== undefined && candidate.type !== ('prflx' satisfies CandidateType)) {
        remoteCandidates.push(candidate);
      }
    } else if (entry.type === 'transport') {
      dtlsState = entry.dtlsState ?? dtlsState;
      const pair = entries.get(entry.selectedCandidatePairId ?? '');
      const local = candidateOf(entries.get(pair?.localCandidateId ?? ''));
      const remote = candidateOf(entries.get(pair?.remoteCandidateId ?? ''));
      if (local !== undefined && remote !== undefined) {
        const rtt = pair?.currentRoundTripTime;
        selectedPair = { local, remote, rttMs: rtt === undefined ? null : Math.round(rtt * 1000) };
      }
    } else if (entry.type === 'inbound-rtp' && entry.kind === 'video') {
      packetsReceived += entry.packetsReceived ?? 0;
      framesDecoded += entry.framesDecoded ?? 0;
    }
  }
  return { remoteCandidates, dtlsState, selectedPair, packetsReceived, framesDecoded };
}
