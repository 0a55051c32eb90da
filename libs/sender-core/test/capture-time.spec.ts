import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createSignalingServer, type SignalingServer } from '@robocam/signaling';
import { RtcpSrPacket } from 'werift';
import { Sender } from '../src/index.js';
import { ABS_CAPTURE_TIME_URI, WeriftViewer } from './support/werift-viewer.js';

// The capture time of each frame reaches the viewer twice: in the abs-capture-time header
// extension and through the NTP ↔ RTP mapping of the RTCP sender reports. Both must give the time
// the test pattern drew into the frame's timecode strip. Run inside run-isolated.sh.

let server: SignalingServer;
let sender: Sender | undefined;
const viewers: WeriftViewer[] = [];

beforeAll(async () => {
  server = await createSignalingServer({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  await Promise.all(viewers.splice(0).map((viewer) => viewer.close()));
  await sender?.close();
  sender = undefined;
});

const NTP_UNIX_OFFSET_S = 2_208_988_800;

/** A 64-bit NTP timestamp as ms since the Unix epoch. */
function ntpToWallMs(ntp: bigint): number {
  const seconds = Number(ntp >> 32n) - NTP_UNIX_OFFSET_S;
  return seconds * 1000 + (Number(ntp & 0xffff_ffffn) / 2 ** 32) * 1000;
}

/** `a - b` for 32-bit RTP timestamps (wrapping). */
function rtpDiff(a: number, b: number): number {
  return ((((a - b) >>> 0) + 0x8000_0000) % 0x1_0000_0000) - 0x8000_0000;
}

describe('capture time to the viewer', () => {
  it('sends abs-capture-time and sender reports that map RTP to the capture wall clock', async () => {
    sender = new Sender({
      signalingUrl: server.url,
      cameras: [{ type: 'testpattern', width: 320, height: 240, fps: 15 }],
    });
    await sender.start();
    const viewer = await WeriftViewer.connect(server.url);
    viewers.push(viewer);
    // What the viewer receives: each frame's extension value, and the sender reports.
    const extensionNtp = new Map<number, bigint>();
    const reports: { ntp: bigint; rtp: number }[] = [];
    await viewer.watch(await viewer.senderId(), ['testpattern'], 'vp8', { absCaptureTime: true });
    const transceiver = viewer.tracks[0]?.transceiver;
    if (transceiver === undefined) throw new Error('no track');
    const extensionId = transceiver.headerExtensions.find(
      (extension) => extension.uri === ABS_CAPTURE_TIME_URI,
    )?.id;
    expect(extensionId).toBeDefined();
    transceiver.receiver.tracks[0]?.onReceiveRtp.subscribe((packet) => {
      const extension = packet.header.extensions.find((candidate) => candidate.id === extensionId);
      if (extension !== undefined)
        extensionNtp.set(packet.header.timestamp, extension.payload.readBigUInt64BE(0));
    });
    transceiver.receiver.onRtcp.subscribe((packet) => {
      if (packet instanceof RtcpSrPacket)
        reports.push({ ntp: packet.senderInfo.ntpTimestamp, rtp: packet.senderInfo.rtpTimestamp });
    });
    const deadline = performance.now() + 20_000;
    const track = viewer.tracks[0];
    while (
      (reports.length < 2 ||
        (track?.frames.filter((frame) => extensionNtp.has(frame.rtpTimestamp)).length ?? 0) < 30) &&
      performance.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const frames = (track?.frames ?? []).filter(
      (frame) => frame.timecode !== undefined && extensionNtp.has(frame.rtpTimestamp),
    );
    expect(frames.length).toBeGreaterThanOrEqual(30);
    expect(reports.length).toBeGreaterThanOrEqual(2);
    const report = reports.at(-1)!;
    for (const frame of frames) {
      const drawnMs = frame.timecode!.timestampMs;
      // The extension carries the capture time itself (NTP's resolution: well under 1 ms).
      expect(Math.abs(ntpToWallMs(extensionNtp.get(frame.rtpTimestamp)!) - drawnMs)).toBeLessThan(1);
      // The sender report maps the frame's RTP timestamp to its capture time (90 kHz ticks).
      const mappedMs = ntpToWallMs(report.ntp) + rtpDiff(frame.rtpTimestamp, report.rtp) / 90;
      expect(Math.abs(mappedMs - drawnMs)).toBeLessThan(1.5);
    }
  });
});
