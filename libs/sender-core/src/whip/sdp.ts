/**
 * The little a WHIP publisher reads of SDP: what the server's answer accepts for video, and the
 * offer's ICE credentials and mid for trickle fragments. Never throws.
 */
import type { VideoCodec } from '@robocam/types';

/** What the answer's first video section accepts. */
export interface AnsweredVideo {
  /** Whether the section is active (port not 0) and lists `codec`. */
  readonly accepted: boolean;
  /** The codecs it lists, lower case (`vp8`, `h264`, …): for the error message. */
  readonly codecs: readonly string[];
  /** H.264's `profile-level-id` in the answer, if any. */
  readonly h264ProfileLevelId: string | undefined;
  /** Whether transport-wide congestion control feedback was accepted (the extension is in the answer). */
  readonly transportCc: boolean;
}

const CODEC_NAMES: Record<VideoCodec, string> = { vp8: 'vp8', h264: 'h264' };

/** Reads the first `m=video` section of `sdp` for `codec`. */
export function answeredVideo(sdp: string, codec: VideoCodec): AnsweredVideo {
  const lines = sdp.split(/\r?\n/);
  const start = lines.findIndex((line) => line.startsWith('m=video '));
  if (start === -1) return { accepted: false, codecs: [], h264ProfileLevelId: undefined, transportCc: false };
  const end = lines.findIndex((line, index) => index > start && line.startsWith('m='));
  const section = lines.slice(start, end === -1 ? undefined : end);
  const active = !/^m=video 0 /.test(section[0] ?? '');
  const payloadTypes = new Map<string, string>();
  for (const line of section) {
    const match = /^a=rtpmap:(\d+) ([^/\s]+)\//.exec(line);
    if (match !== null) payloadTypes.set(match[1] as string, (match[2] as string).toLowerCase());
  }
  let h264ProfileLevelId: string | undefined;
  for (const line of section) {
    const match = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (match === null || payloadTypes.get(match[1] as string) !== 'h264') continue;
    h264ProfileLevelId ??= /profile-level-id=([0-9a-f]{6})/i.exec(match[2] as string)?.[1]?.toLowerCase();
  }
  const codecs = [...new Set(payloadTypes.values())];
  return {
    accepted: active && codecs.includes(CODEC_NAMES[codec]),
    codecs,
    h264ProfileLevelId,
    transportCc: section.some((line) => /^a=extmap:\d+\S* \S*transport-wide-cc/.test(line)),
  };
}

/** The ICE credentials and mid of the first media section, for trickle fragments. */
export function iceCredentials(sdp: string): { ufrag: string; pwd: string; mid: string } | undefined {
  const ufrag = /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
  const pwd = /^a=ice-pwd:(\S+)/m.exec(sdp)?.[1];
  const mid = /^a=mid:(\S+)/m.exec(sdp)?.[1];
  return ufrag === undefined || pwd === undefined || mid === undefined ? undefined : { ufrag, pwd, mid };
}
