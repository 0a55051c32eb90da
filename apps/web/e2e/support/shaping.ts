// Narrowing the test's network with the kernel's qdiscs (tbf and htb; this kernel has no netem).
// Only inside ../shared/netns/run-isolated.sh: media between Chromium and the sender goes over the
// namespace's `lo` and the veth `v0` (127.0.0.2, the address Chromium gathers), so every rule is
// put on both. Each helper first checks that it runs in that namespace: outside it, as root, tc
// would shape the machine's own loopback. bench/lib/shaping.mjs is the benchmark's twin.
import { spawnSync } from 'node:child_process';
import type { BrowserContext, Page } from 'playwright-core';

/** The namespace's interfaces that carry the media. */
const LINKS = ['lo', 'v0'] as const;
/** The queue a shaped link may build (issue #12's "400 ms queue"). */
export const SHAPED_QUEUE_MS = 400;
/** tbf/htb bucket: 16 kbit = 2 KB, about one media packet (a larger burst would hide the limit). */
const BURST = '16kbit';

let isolationChecked = false;

function run(
  command: string,
  args: readonly string[],
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error !== undefined) {
    throw new Error(
      `cannot run ${command} (${result.error.message}): the shaped-link tests need iproute2 ` +
        '(`apt-get install iproute2`; `bash scripts/install-system-deps.sh` installs it)',
    );
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Throws unless this process runs in run-isolated.sh's network namespace (its only interfaces are
 * `lo` and the veth pair `v0`/`v1`) and may change its qdiscs.
 */
export function assertCanShape(): void {
  if (isolationChecked) return;
  const names = run('ip', ['-o', 'link', 'show'])
    .stdout.split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.split(': ')[1]?.split('@')[0] ?? '');
  if (!names.includes('v0') || !names.every((name) => ['lo', 'v0', 'v1'].includes(name))) {
    throw new Error(
      `the shaped-link tests change qdiscs and must run inside ../shared/netns/run-isolated.sh ` +
        `(this namespace has ${names.join(', ')}, not lo + v0/v1): ` +
        '`../shared/netns/run-isolated.sh npx nx run web:e2e`',
    );
  }
  isolationChecked = true;
  const probe = run('tc', [
    'qdisc',
    'replace',
    'dev',
    'v0',
    'root',
    'tbf',
    'rate',
    '100mbit',
    'burst',
    BURST,
    'latency',
    '50ms',
  ]);
  if (probe.status !== 0) {
    isolationChecked = false;
    throw new Error(
      `tc cannot change qdiscs here (${probe.stderr.trim()}): run as root in the namespace (run-isolated.sh)`,
    );
  }
  run('tc', ['qdisc', 'del', 'dev', 'v0', 'root']);
}

function tc(args: readonly string[], allowFailure = false): string {
  assertCanShape();
  const result = run('tc', args);
  if (result.status !== 0 && !allowFailure)
    throw new Error(`tc ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

/** Ports `shapePorts` has filters for, and their rate; reset by `clearShaping`. */
let portShaping: { rateKbps: number; ports: Set<number> } | undefined;

/**
 * While every packet is shaped, `lo` gets a real link's MTU. Loopback's is 64 KiB, so TCP sends
 * segments of up to 64 KiB, and tbf drops every packet larger than its 2 KB bucket: a signaling
 * message over 2 KB (an SDP offer is ~5 KB) would never arrive (measured: a 10 KB HTTP response over
 * a 1 Mbit/s tbf on lo timed out at MTU 65536, took 163 ms at 1500). Open connections adapt.
 */
const SHAPED_MTU = 1500;
let loMtu: number | undefined;

function setLoMtu(mtu: number): void {
  assertCanShape();
  const result = run('ip', ['link', 'set', 'dev', 'lo', 'mtu', String(mtu)]);
  if (result.status !== 0) throw new Error(`ip link set dev lo mtu ${mtu} failed: ${result.stderr.trim()}`);
}

/**
 * Drops every UDP packet on the links, TCP (signaling, the page) untouched: a network with no UDP
 * path between browser and robot. This kernel has neither netem nor the drop action (act_gact), so
 * UDP is classified into a token bucket whose burst (40 bytes) is smaller than any UDP packet,
 * which tbf never sends. Undone by {@link clearShaping}. (field-local, issue #15: the doctor's test.)
 */
export function blockUdp(): void {
  dropUdp([['ip', 'protocol', '17', '0xff']]);
}

/**
 * Drops the UDP packets from or to the ports `base`…`base + size - 1` (`size` a power of two,
 * `base` a multiple of it: one u32 mask), as {@link blockUdp} does for all UDP: the media and data
 * channels of a sender with that `RTC_PORT_RANGE` are cut while every other packet (signaling,
 * other UDP on the machine) passes. Undone by {@link clearShaping}.
 */
export function blockUdpPorts(base: number, size: number): void {
  if (size & (size - 1) || base % size !== 0)
    throw new Error(`${base}+${size}: not an aligned power-of-two block`);
  const mask = `0x${(0xffff & ~(size - 1)).toString(16)}`;
  const udp = ['ip', 'protocol', '17', '0xff'];
  dropUdp([
    [...udp, 'match', 'ip', 'sport', String(base), mask],
    [...udp, 'match', 'ip', 'dport', String(base), mask],
  ]);
}

/** Classifies packets matching any of `matches` (u32 selectors) into a class that drops them all. */
function dropUdp(matches: readonly (readonly string[])[]): void {
  for (const link of LINKS) {
    tc(['qdisc', 'replace', 'dev', link, 'root', 'handle', '1:', 'htb', 'default', '10', 'r2q', '1000']);
    tc(['class', 'add', 'dev', link, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '1gbit']);
    tc(['class', 'add', 'dev', link, 'parent', '1:', 'classid', '1:20', 'htb', 'rate', '1gbit']);
    tc(['qdisc', 'add', 'dev', link, 'parent', '1:20', 'tbf', 'rate', '8kbit', 'burst', '40', 'limit', '40']);
    for (const match of matches) {
      tc([
        'filter',
        'add',
        'dev',
        link,
        'parent',
        '1:',
        'protocol',
        'ip',
        'prio',
        '1',
        'u32',
        'match',
        ...match,
        'flowid',
        '1:20',
      ]);
    }
  }
}

/** Removes every rule from the links (and gives lo its MTU back): they run free again. Idempotent. */
export function clearShaping(): void {
  portShaping = undefined;
  for (const link of LINKS) tc(['qdisc', 'del', 'dev', link, 'root'], true);
  if (loMtu !== undefined) {
    setLoMtu(loMtu);
    loMtu = undefined;
  }
}

/**
 * Every packet on the links (both directions share loopback's one queue) through a token bucket of
 * `rateKbps` kbit/s that queues at most 400 ms; lo at a 1500-byte MTU meanwhile (see SHAPED_MTU).
 */
export function shapeAll(rateKbps: number): void {
  portShaping = undefined;
  if (loMtu === undefined) {
    assertCanShape();
    loMtu = Number(/ mtu (\d+)/.exec(run('ip', ['-o', 'link', 'show', 'dev', 'lo']).stdout)?.[1] ?? 65536);
    setLoMtu(SHAPED_MTU);
  }
  for (const link of LINKS) {
    tc([
      'qdisc',
      'replace',
      'dev',
      link,
      'root',
      'tbf',
      'rate',
      `${rateKbps}kbit`,
      'burst',
      BURST,
      'latency',
      `${SHAPED_QUEUE_MS}ms`,
    ]);
  }
}

/**
 * Only UDP packets to `ports` (one viewer's media: see `candidatePorts`) through one htb class of
 * `rateKbps` kbit/s with a 400 ms byte FIFO; all other traffic is not classified and leaves at once
 * (htb `default 0`). Called again, it adds filters for new ports to the same class; with another
 * rate it starts over.
 */
export function shapePorts(ports: Iterable<number>, rateKbps: number): void {
  if (portShaping?.rateKbps !== rateKbps) {
    clearShaping();
    const limitBytes = Math.round((rateKbps * SHAPED_QUEUE_MS) / 8) + 2048;
    for (const link of LINKS) {
      tc(['qdisc', 'add', 'dev', link, 'root', 'handle', '1:', 'htb', 'default', '0']);
      tc([
        'class',
        'add',
        'dev',
        link,
        'parent',
        '1:',
        'classid',
        '1:20',
        'htb',
        'rate',
        `${rateKbps}kbit`,
        'ceil',
        `${rateKbps}kbit`,
        'burst',
        BURST,
        'cburst',
        BURST,
      ]);
      tc([
        'qdisc',
        'add',
        'dev',
        link,
        'parent',
        '1:20',
        'handle',
        '20:',
        'bfifo',
        'limit',
        String(limitBytes),
      ]);
    }
    portShaping = { rateKbps, ports: new Set() };
  }
  for (const port of ports) {
    if (portShaping.ports.has(port)) continue;
    for (const link of LINKS) {
      tc([
        'filter',
        'add',
        'dev',
        link,
        'parent',
        '1:',
        'protocol',
        'ip',
        'prio',
        '1',
        'u32',
        'match',
        'ip',
        'protocol',
        '17',
        '0xff',
        'match',
        'ip',
        'dport',
        String(port),
        '0xffff',
        'flowid',
        '1:20',
      ]);
    }
    portShaping.ports.add(port);
  }
}

/** Bytes the shaped class (htb) or the tbf on `lo` let through, and what they dropped. */
export function shapedCounters(): { bytes: number; dropped: number } {
  const text = tc(['-s', 'qdisc', 'show', 'dev', 'lo']);
  const block = text
    .split(/^(?=qdisc )/m)
    .find((b) => b.startsWith('qdisc bfifo 20:') || b.startsWith('qdisc tbf'));
  const sent = block === undefined ? null : /Sent (\d+) bytes \d+ pkt \(dropped (\d+)/.exec(block);
  return { bytes: Number(sent?.[1] ?? 0), dropped: Number(sent?.[2] ?? 0) };
}

declare global {
  interface Window {
    /** Every RTCPeerConnection the page created (installed by `trackPeerConnections`). */
    __e2ePeers?: RTCPeerConnection[];
  }
}

/**
 * Makes pages of `context` keep every RTCPeerConnection they create (an init script wrapping the
 * constructor; the page is otherwise unchanged), so that `candidatePorts` can read them. Call
 * before opening the page.
 */
export async function trackPeerConnections(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const peers: RTCPeerConnection[] = [];
    window.__e2ePeers = peers;
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Native {
      constructor(configuration?: RTCConfiguration) {
        super(configuration);
        peers.push(this);
      }
    };
  });
}

/**
 * The local ICE candidate ports of every open connection of `page` (see `trackPeerConnections`).
 * Chromium gathers on the any-address (0.0.0.0:port: in getStats as `local-candidate`, never given
 * to the page's onicecandidate) before the offer leaves, so a new session's ports are known before
 * its media flows.
 */
export async function candidatePorts(page: Page): Promise<number[]> {
  return page.evaluate(async () => {
    const ports = new Set<number>();
    for (const pc of window.__e2ePeers ?? []) {
      if (pc.connectionState === 'closed') continue;
      try {
        (await pc.getStats()).forEach((stat: { type?: string; port?: unknown }) => {
          if (stat.type === 'local-candidate' && typeof stat.port === 'number') ports.add(stat.port);
        });
      } catch {
        // closed meanwhile
      }
    }
    return [...ports];
  });
}

/**
 * Puts one viewer page's media behind `rateKbps` kbit/s (`shapePorts`) and keeps it there until
 * `stop()`: re-reads its candidate ports every 100 ms, so a session the page opens meanwhile (it
 * replaces a stalled one) is shaped as well. `stop()` clears the rules and rethrows what failed
 * meanwhile.
 */
export async function constrainViewer(page: Page, rateKbps: number): Promise<{ stop: () => Promise<void> }> {
  const ports = await candidatePorts(page);
  if (ports.length === 0)
    throw new Error('the page has no ICE candidates yet (call trackPeerConnections first)');
  shapePorts(ports, rateKbps);
  const state = { running: true };
  const loop = (async () => {
    while (state.running) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      // After stop() this may shape once more: stop() clears the rules only after the loop ended.
      shapePorts(await candidatePorts(page), rateKbps);
    }
  })();
  loop.catch(() => undefined); // rethrown by stop()
  return {
    stop: async () => {
      state.running = false;
      try {
        await loop;
      } finally {
        clearShaping();
      }
    },
  };
}
