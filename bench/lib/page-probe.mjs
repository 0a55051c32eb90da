// Measuring the real viewer page from inside Chromium, without changing it: an init script (runs
// before the page's own scripts) that
// - records every frame each `<video>` presents (requestVideoFrameCallback) with the page's
//   `data-active` flag (the page plays a replacement session in a second, hidden video until its
//   first frame: only the active one is on screen), and reads the frame's timecode strip to get its
//   glass-to-glass latency: expected display time (wall clock) minus the capture time the sender
//   drew into it. Sender and browser run on one machine, so one clock: no offset estimate needed
//   (the page's own readout, `tiles[i].latencyMs`, is a median of 30 frames through a ping-based
//   offset; this is every frame, on the true clock);
// - wraps `RTCPeerConnection` to keep every connection the page opens, and samples their video
//   `inbound-rtp` counters every 250 ms, summed over connections (the page replaces its session
//   after a stall or a grown jitter buffer), with the selected candidate pair's local port;
// - collects every local ICE candidate port on request (`candidatePorts()`): a viewer's media goes
//   to one of them, so bench/lib/shaping.mjs can shape one viewer by them.
// The timecode decoder is @robocam/testpattern's own, bundled for the page by esbuild.
import { resolve } from 'node:path';
import { root } from './harness.mjs';

let script;

/** The init script (`BrowserContext.addInitScript({ content })`), built once per process. */
export async function probeScript() {
  if (script !== undefined) return script;
  const esbuild = await import('esbuild');
  const src = resolve(root, 'libs/testpattern/src');
  const bundle = await esbuild.build({
    stdin: {
      contents: `export { decodeTimecode } from './timecode-read.ts';\nexport { timecodeGeometry } from './timecode.ts';\n`,
      resolveDir: src,
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    globalName: '__robocamTimecode',
    platform: 'browser',
    write: false,
    logLevel: 'warning',
  });
  // Playwright may wrap the script: the bundle's global is handed over explicitly.
  script = `(${install.toString()})((() => {\n${bundle.outputFiles[0].text}\nreturn __robocamTimecode;\n})());`;
  return script;
}

/**
 * Every local ICE candidate port the page's connections gathered so far. Chromium gathers on the
 * any-address (0.0.0.0:port, shown in getStats as `local-candidate`, never to the page's
 * onicecandidate) before the offer leaves, so a new connection's ports are known here before any
 * media flows to them.
 */
export function candidatePorts(page) {
  return page.evaluate(async () => {
    const probe = window.__benchProbe;
    if (probe === undefined) return [];
    for (const { pc } of probe.pcs) {
      if (pc.connectionState === 'closed') continue;
      try {
        for (const stat of (await pc.getStats()).values()) {
          if (stat.type === 'local-candidate' && typeof stat.port === 'number')
            probe.candidatePorts.add(stat.port);
        }
      } catch {
        // closed meanwhile
      }
    }
    return [...probe.candidatePorts];
  });
}

/**
 * Takes what the probe recorded since the last call: `frames` ([wallMs, latencyMs | null, active
 * 0/1, counter | null] per presented frame) and `stats` (cumulative samples, see `sample()`).
 */
export function drainProbe(page) {
  return page.evaluate(() => {
    const probe = window.__benchProbe;
    if (probe === undefined) return { frames: [], stats: [] };
    return { frames: probe.frames.splice(0), stats: probe.stats.splice(0) };
  });
}

// ---- in the page (serialized: no closures over this module) ----------------------------------

function install(timecode) {
  const probe = { frames: [], stats: [], pcs: [], candidatePorts: new Set() };
  window.__benchProbe = probe;
  const { decodeTimecode, timecodeGeometry } = timecode;

  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      probe.pcs.push({
        pc: this,
        bytes: 0,
        packets: 0,
        lost: 0,
        decoded: 0,
        dropped: 0,
        freezes: 0,
        port: null,
      });
    }
  };

  const canvas = document.createElement('canvas');
  let context = null;
  const readLatency = (video, metadata, displayWallMs) => {
    const { width, height } = metadata;
    let stripHeight;
    try {
      stripHeight = timecodeGeometry(width, height).stripHeight;
    } catch {
      return [null, null];
    }
    if (canvas.width !== width || canvas.height !== stripHeight) {
      canvas.width = width;
      canvas.height = stripHeight;
      context = null;
    }
    context ??= canvas.getContext('2d', { willReadFrequently: true, alpha: false });
    context.drawImage(video, 0, 0, width, stripHeight, 0, 0, width, stripHeight);
    const timecode = decodeTimecode(context.getImageData(0, 0, width, stripHeight).data, width, height);
    return timecode === null ? [null, null] : [displayWallMs - timecode.timestampMs, timecode.counter];
  };
  const hooked = new WeakSet();
  const hook = (video) => {
    const onFrame = (_now, metadata) => {
      video.requestVideoFrameCallback(onFrame);
      const wallNow = Date.now();
      const displayWallMs = wallNow + (metadata.expectedDisplayTime - performance.now());
      const active = video.hasAttribute('data-active') ? 1 : 0;
      const [latency, counter] = active === 1 ? readLatency(video, metadata, displayWallMs) : [null, null];
      probe.frames.push([wallNow, latency, active, counter]);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  setInterval(() => {
    for (const video of document.querySelectorAll('video')) {
      if (hooked.has(video)) continue;
      hooked.add(video);
      hook(video);
    }
  }, 20);

  const sample = async () => {
    for (const entry of probe.pcs) {
      if (entry.pc.connectionState === 'closed') continue;
      let report;
      try {
        report = await entry.pc.getStats();
      } catch {
        continue;
      }
      const byId = new Map();
      for (const stat of report.values()) byId.set(stat.id, stat);
      for (const stat of byId.values()) {
        if (stat.type === 'inbound-rtp' && stat.kind === 'video') {
          entry.bytes = stat.bytesReceived ?? 0;
          entry.packets = stat.packetsReceived ?? 0;
          entry.lost = stat.packetsLost ?? 0;
          entry.decoded = stat.framesDecoded ?? 0;
          entry.dropped = stat.framesDropped ?? 0;
          entry.freezes = stat.freezeCount ?? 0;
        }
        if (stat.type === 'transport' && stat.selectedCandidatePairId !== undefined) {
          const pair = byId.get(stat.selectedCandidatePairId);
          const local = pair === undefined ? undefined : byId.get(pair.localCandidateId);
          if (local?.port !== undefined) entry.port = local.port;
        }
      }
    }
    const sum = (key) => probe.pcs.reduce((total, entry) => total + entry[key], 0);
    const open = probe.pcs.filter((entry) => entry.pc.connectionState !== 'closed');
    probe.stats.push({
      at: Date.now(),
      bytes: sum('bytes'),
      packets: sum('packets'),
      lost: sum('lost'),
      decoded: sum('decoded'),
      dropped: sum('dropped'),
      freezes: sum('freezes'),
      connections: probe.pcs.length,
      // The newest open connection's port: the one the page plays (or is about to).
      port: open.at(-1)?.port ?? null,
    });
  };
  const loop = async () => {
    await sample();
    setTimeout(loop, 250);
  };
  void loop();
}
