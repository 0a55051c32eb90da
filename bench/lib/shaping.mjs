// Shaping the isolated network namespace's links with the kernel's qdiscs (no netem here: tbf and
// htb only). Traffic between Chromium and the sender goes over `lo` (127.0.0.1) and over the
// veth `v0` (127.0.0.2, the address Chromium gathers): every rule is put on both, so it applies
// whichever way the kernel routes a packet. Only usable inside ../shared/netns/run-isolated.sh
// (root in a private namespace): every call checks that first (outside it, as root, tc would
// shape the machine's own loopback).
import { spawnSync } from 'node:child_process';

/** The namespace's interfaces that carry the media. */
export const LINKS = ['lo', 'v0'];
/** The queue a shaped link may build, as in the schedule ("400 ms queue"). */
export const QUEUE_MS = 400;
/** tbf's bucket: 16 kbit = 2 KB, one or two media packets (a larger burst would hide the limit). */
const BURST = '16kbit';

/**
 * Throws unless this process runs in run-isolated.sh's namespace: its only interfaces are `lo`
 * and the veth pair `v0`/`v1`. Outside it, as root, `tc` would shape the machine's own loopback,
 * which every other process on it uses.
 */
export function assertIsolated() {
  const result = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  if (result.error !== undefined)
    throw new Error(`cannot run ip (${result.error.message}): install iproute2`);
  const names = result.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.split(': ')[1]?.split('@')[0]);
  const isolated = names.includes('v0') && names.every((name) => ['lo', 'v0', 'v1'].includes(name));
  if (!isolated) {
    throw new Error(
      `refusing to shape: not inside ../shared/netns/run-isolated.sh's namespace (interfaces: ${names.join(', ')})`,
    );
  }
}

let isolationChecked = false;

/** Every change goes through this first: never touch the machine's own interfaces. */
function checkIsolated() {
  if (isolationChecked) return;
  assertIsolated();
  isolationChecked = true;
}

function tc(args, { allowFailure = false } = {}) {
  checkIsolated();
  const result = spawnSync('tc', args, { encoding: 'utf8' });
  if (result.error !== undefined) {
    throw new Error(`cannot run tc (${result.error.message}): install iproute2`);
  }
  if (result.status !== 0 && !allowFailure) {
    throw new Error(`tc ${args.join(' ')} failed: ${result.stderr.trim()}`);
  }
  return result;
}

/** Parses a rate as tc writes it (`400kbit`, `1mbit`, `2.5mbit`) into kbit/s. */
export function parseRateKbps(text) {
  const match = /^(\d+(?:\.\d+)?)(kbit|mbit)$/i.exec(text);
  if (match === null) throw new Error(`bad rate "${text}": use e.g. 400kbit or 1mbit`);
  return Number(match[1]) * (match[2].toLowerCase() === 'mbit' ? 1000 : 1);
}

/**
 * While every packet is shaped, `lo` gets a real link's MTU. Loopback's is 64 KiB, so TCP sends
 * segments of up to 64 KiB, and tbf drops every packet larger than its 2 KB bucket: any signaling
 * message over 2 KB (an SDP offer is ~5 KB) would never arrive (measured: a 10 KB HTTP response
 * over a 1 Mbit/s tbf on lo timed out at MTU 65536 and took 163 ms at 1500). Open connections
 * adapt (the kernel lowers their path MTU). Undone by clearShaping.
 */
const SHAPED_MTU = 1500;
let loMtu;

function setLoMtu(mtu) {
  checkIsolated();
  const result = spawnSync('ip', ['link', 'set', 'dev', 'lo', 'mtu', String(mtu)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip link set dev lo mtu ${mtu} failed: ${result.stderr.trim()}`);
}

/** Removes every rule: the links run free again (and lo gets its own MTU back). */
export function clearShaping() {
  shapedPorts = undefined;
  for (const link of LINKS) tc(['qdisc', 'del', 'dev', link, 'root'], { allowFailure: true });
  if (loMtu !== undefined) {
    setLoMtu(loMtu);
    loMtu = undefined;
  }
}

/**
 * Every packet on the links (both directions share loopback's one queue) through one token bucket
 * of `rateKbps` with a 400 ms queue; lo at a 1500-byte MTU meanwhile (see SHAPED_MTU).
 */
export function shapeAll(rateKbps) {
  shapedPorts = undefined;
  if (loMtu === undefined) {
    const shown = spawnSync('ip', ['-o', 'link', 'show', 'dev', 'lo'], { encoding: 'utf8' }).stdout;
    loMtu = Number(/ mtu (\d+)/.exec(shown)?.[1] ?? 65536);
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
      `${QUEUE_MS}ms`,
    ]);
  }
}

/** Ports `shapePorts` filters into its class, per link; reset by clearShaping. */
let shapedPorts;

/**
 * Only UDP packets to `ports` (one viewer's media: its local ICE candidates' ports) through one
 * `rateKbps` htb class with a byte FIFO of 400 ms at that rate; everything else is not classified
 * and leaves at once (htb's direct queue: `default 0`). Called again with more ports, it adds
 * filters for the new ones to the same class (its counters and queue are kept); with another rate,
 * it starts over.
 */
export function shapePorts(ports, rateKbps) {
  if (shapedPorts?.rateKbps !== rateKbps) {
    clearShaping();
    const limitBytes = Math.round((rateKbps * QUEUE_MS) / 8) + 2048;
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
    shapedPorts = { rateKbps, ports: new Set() };
  }
  for (const port of ports) {
    if (shapedPorts.ports.has(port)) continue;
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
    shapedPorts.ports.add(port);
  }
}

/**
 * Bytes, packets and drops each qdisc on each link counted so far (`tc -s qdisc show`), e.g.
 * `{ lo: { 'tbf 8001:': { bytes, packets, dropped } } }`: shows which link carried the media and
 * what the shaper dropped.
 */
export function shapingCounters() {
  const out = {};
  for (const link of LINKS) {
    const text = tc(['-s', 'qdisc', 'show', 'dev', link]).stdout;
    out[link] = {};
    for (const block of text.split(/^(?=qdisc )/m)) {
      const name = /^qdisc (\S+ \S+)/.exec(block)?.[1];
      const sent = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+)/.exec(block);
      if (name === undefined || sent === null) continue;
      out[link][name] = { bytes: Number(sent[1]), packets: Number(sent[2]), dropped: Number(sent[3]) };
    }
  }
  return out;
}

/** Throws with a clear message when this process cannot shape (not in the namespace, no tc). */
export function assertCanShape() {
  clearShaping();
  try {
    shapeAll(100_000);
  } catch (error) {
    throw new Error(
      `${error.message}\nShaping needs root in a private network namespace: run inside ../shared/netns/run-isolated.sh.`,
    );
  } finally {
    clearShaping();
  }
}
