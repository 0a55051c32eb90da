/**
 * What a viewer session's peer connection offers and answers for video: the codec parameters
 * werift is configured with, the H.264 level written into the answer, and the wait for ICE
 * gathering. Pure functions of the session's codec and cameras.
 */
import { RTP_VIDEO_CLOCK_RATE_HZ, type Logger, type VideoCodec } from '@robocam/types';
import { RTCRtpCodecParameters, type RTCPeerConnection } from 'werift';
import { sessionProfileLevelId, withH264Level } from './h264.js';

/** What these functions read of a camera. */
interface CodecSource {
  readonly h264ProfileLevelId: string | undefined;
}

/** The profile-level-id an H.264 session declares for all its tracks. */
export interface SessionH264 {
  readonly profileLevelId: string;
  readonly mixedProfiles: boolean;
}

/**
 * The profile and highest level of the session's H.264 cameras, worked out once per negotiation
 * (undefined for VP8, or before the cameras have encoded). Logs once when their profiles differ.
 */
export function sessionH264(
  codec: VideoCodec,
  cameras: readonly CodecSource[],
  logger: Logger,
): SessionH264 | undefined {
  if (codec !== 'h264') return undefined;
  const known = cameras.flatMap((camera) =>
    camera.h264ProfileLevelId === undefined ? [] : [camera.h264ProfileLevelId],
  );
  const session = sessionProfileLevelId(known);
  if (session?.mixedProfiles === true) {
    logger.warn(
      { profileLevelIds: known, declared: session.profileLevelId },
      'the cameras of this session encode different H.264 profiles; one is declared for all',
    );
  }
  return session;
}

/**
 * The answer's H.264 level: the highest among the session's cameras (a level is an upper bound
 * of a stream, RFC 6184 §8.1), in every m-section alike (bundled m-sections share one payload
 * type; Chromium refuses different parameters for it). werift echoes the offer's level (3.1 from
 * Chromium) whatever the cameras send.
 */
export function declareH264Level(sdp: string, session: SessionH264 | undefined): string {
  if (session === undefined) return sdp;
  return withH264Level(sdp, parseInt(session.profileLevelId.slice(4, 6), 16));
}

/**
 * The one video codec a session's peer connection is configured with. For H.264 werift matches
 * it against the offered variants by profile (the level is set in the answer, above).
 */
export function videoCodecParameters(
  codec: VideoCodec,
  h264: SessionH264 | undefined,
): RTCRtpCodecParameters {
  const rtcpFeedback = [
    { type: 'nack' },
    { type: 'nack', parameter: 'pli' },
    { type: 'ccm', parameter: 'fir' },
    { type: 'transport-cc' },
  ];
  if (codec === 'vp8') {
    return new RTCRtpCodecParameters({
      mimeType: 'video/VP8',
      clockRate: RTP_VIDEO_CLOCK_RATE_HZ,
      payloadType: 96,
      rtcpFeedback,
    });
  }
  const profileLevelId = h264?.profileLevelId ?? '42e01f';
  return new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: RTP_VIDEO_CLOCK_RATE_HZ,
    payloadType: 102,
    rtcpFeedback,
    parameters: `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${profileLevelId}`,
  });
}

/** Host candidates (ICE-lite) gather in well under 100 ms; STUN/TURN may take longer. */
export function waitForGathering(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      subscription.unSubscribe();
      resolve();
    }, timeoutMs);
    const subscription = pc.iceGatheringStateChange.subscribe((state) => {
      if (state !== 'complete') return;
      clearTimeout(timer);
      subscription.unSubscribe();
      resolve();
    });
  });
}
