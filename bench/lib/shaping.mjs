// Shaping the isolated network namespace's links with the kernel's qdiscs (no netem here: tbf and
// htb only). Traffic between Chromium and the sender goes over `lo` (127.0.0.1) and over the
// veth `v0` (127.0.0.2, the address Chromium gathers): every rule is put on both, so it applies
// whichever way the kernel routes a packet. Only usable inside ../shared/netns/run-isolated.sh
// (root in a private namespace); outside it, `tc` fails with "Operation not permitted".
import { spawnSync } from 'node:child_process';

/** The namespace's interfaces that carry the media. */
export const LINKS = ['lo', 'v0'];
/** The queue a shaped link may build, as in the schedule ("400 ms queue"). */
export const QUEUE_MS = 400;
/** tbf's bucket: 16 kbit = 2 KB, one or two media packets (a larger burst would hide the limit). */
const BURST = '16kbit';

function tc(args, { allowFailure = false } = {}) {
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

/** Removes every rule: the links run free again. */
export function clearShaping() {
  shapedPorts = undefined;
  for (const link of LINKS) tc(['qdisc', 'del', 'dev', link, 'root'], { allowFailure: true });
}

/** Every packet on the links through one token bucket of `rateKbps` with a 400 ms queue. */
export function shapeAll(rateKbps) {
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
