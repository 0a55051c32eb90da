/**
 * Choosing an implementation: each candidate is opened with the real settings (H.264 ones also
 * encode a grey test frame, which tells the profile-level-id before the first real frame, e.g. for
 * an SDP offer). Hardware that failed for a size is remembered for a while, so camera pipelines that
 * re-create their encoder whenever viewers come back don't probe (and log) it every time.
 */
import { RTP_VIDEO_CLOCK_RATE_HZ, errorMessage, type Logger } from '@robocam/types';
import { collectH264ParamSets } from '../h264.js';
import { CodecSession } from './codec-session.js';
import { EncoderUnavailableError, type EncoderAttempt } from './errors.js';
import { IMPLEMENTATIONS, candidatesFor, type Implementation } from './implementations.js';
import type { ResolvedVideoEncoderSettings } from './settings.js';

/** Hardware probes give up after this long (a hung driver must not hang create()). */
const PROBE_TIMEOUT_MS = 5_000;
/** A hardware encoder that failed to open for a size is not probed again for this long. */
const PROBE_FAILURE_TTL_MS = 60_000;

/** Recent hardware probe failures by `implementation:WxH@fps`. */
const probeFailures = new Map<string, { reason: string; at: number }>();

/** What a probe learned. */
export interface ProbeResult {
  /** SPS/PPS (Annex B) seen in the test output or extradata, H.264 only. */
  paramSets?: Buffer;
  profileLevelId?: string;
}

/** The implementation chosen and its opened session. */
export interface OpenedEncoder {
  readonly impl: Implementation;
  readonly session: CodecSession;
  readonly probed: ProbeResult;
  /** Implementations tried before `impl`, and why they were skipped. */
  readonly fallbacks: readonly EncoderAttempt[];
}

/**
 * Opens the first usable implementation for `s` (see `EncoderPreference`). Logs the choice (info)
 * and fallbacks (warn, unless every skip was remembered from a recent probe). Rejects with
 * `EncoderUnavailableError` when none works.
 */
export async function openEncoder(s: ResolvedVideoEncoderSettings, logger: Logger): Promise<OpenedEncoder> {
  if (s.codec === 'vp8' && s.encoder !== 'auto' && s.encoder !== 'software') {
    throw new EncoderUnavailableError(
      'vp8',
      s.encoder,
      [],
      `there is no hardware VP8 encoder path (only libvpx); use encoder 'software' or 'auto'`,
    );
  }
  const attempts: EncoderAttempt[] = [];
  let freshFailures = 0;
  for (const name of candidatesFor(s)) {
    const impl = IMPLEMENTATIONS[name];
    if (!impl.findCodec()) {
      attempts.push({ implementation: name, reason: 'not compiled into node-av’s FFmpeg' });
      continue;
    }
    const failureKey = `${name}:${s.width}x${s.height}@${s.fps}`;
    const recentFailure = probeFailures.get(failureKey);
    if (recentFailure && performance.now() - recentFailure.at < PROBE_FAILURE_TTL_MS) {
      attempts.push({ implementation: name, reason: `${recentFailure.reason} (probed recently)` });
      continue;
    }
    let probed: ProbeResult = {};
    let session: CodecSession;
    try {
      if (s.codec === 'h264') probed = await probe(impl, s);
      session = await CodecSession.open(impl, s, s.bitrateKbps);
    } catch (e) {
      const reason = errorMessage(e);
      attempts.push({ implementation: name, reason });
      freshFailures += 1;
      if (impl.hardware) probeFailures.set(failureKey, { reason, at: performance.now() });
      continue;
    }
    probeFailures.delete(failureKey);
    const chosen = {
      implementation: name,
      hardware: impl.hardware,
      codec: s.codec,
      width: s.width,
      height: s.height,
      fps: s.fps,
      bitrateKbps: s.bitrateKbps,
      temporalLayers: s.temporalLayers,
      ...(probed.profileLevelId === undefined ? {} : { profileLevelId: probed.profileLevelId }),
    };
    if (freshFailures > 0) logger.warn({ ...chosen, skipped: attempts }, 'encoder fell back');
    logger.info(chosen, 'encoder opened');
    return { impl, session, probed, fallbacks: attempts };
  }
  logger.warn({ codec: s.codec, requested: s.encoder, attempts }, 'no usable encoder');
  throw new EncoderUnavailableError(s.codec, s.encoder, attempts);
}

/**
 * Open `impl` with the real settings, encode one grey frame, flush, and check that a packet came
 * out. Throws with the reason on failure.
 */
async function probe(impl: Implementation, s: ResolvedVideoEncoderSettings): Promise<ProbeResult> {
  const opening = CodecSession.open(impl, s, s.bitrateKbps);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      resolve('timeout');
    }, PROBE_TIMEOUT_MS);
  });
  const session = await Promise.race([opening, timeout]).finally(() => {
    clearTimeout(timer);
  });
  if (session === 'timeout') {
    opening.then(
      (late) => {
        late.free();
      },
      () => undefined,
    );
    throw new Error(`open timed out after ${PROBE_TIMEOUT_MS} ms`);
  }
  try {
    const grey = Buffer.alloc((s.width * s.height * 3) / 2, 128);
    session.load(grey);
    const packets = await session.encode(0n, BigInt(Math.round(RTP_VIDEO_CLOCK_RATE_HZ / s.fps)), true);
    packets.push(...(await session.flush()));
    if (packets.length === 0) throw new Error('no output for a test frame');
    const stream = Buffer.concat([session.extradata ?? Buffer.alloc(0), ...packets.map((p) => p.data)]);
    const params = collectH264ParamSets(stream);
    return params ? { paramSets: params.annexB, profileLevelId: params.profileLevelId } : {};
  } finally {
    session.free();
  }
}
