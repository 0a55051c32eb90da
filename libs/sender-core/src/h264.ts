/**
 * Small helpers for H.264 Annex-B byte streams (ITU-T H.264 Annex B: NAL units separated by
 * 00 00 01 / 00 00 00 01 start codes), as produced by libx264 and the hardware encoders.
 *
 * Only what the sender needs: splitting into NAL units, reading the profile-level-id of the SPS
 * (for the SDP `fmtp` line, RFC 6184 §8.1) and converting `avcC` extradata to Annex B.
 */

/** NAL unit types (H.264 Table 7-1) used by the sender. */
export const H264NalType = {
  /** Coded slice of a non-IDR picture. */
  Slice: 1,
  /** Coded slice of an IDR picture (a real keyframe). */
  Idr: 5,
  /** Supplemental enhancement information. */
  Sei: 6,
  /** Sequence parameter set. */
  Sps: 7,
  /** Picture parameter set. */
  Pps: 8,
  /** Access unit delimiter. */
  Aud: 9,
} as const;

/** The four-byte Annex-B start code. */
export const ANNEX_B_START_CODE: Readonly<Uint8Array> = Uint8Array.of(0, 0, 0, 1);

/**
 * Split an Annex-B byte stream into its NAL units (without start codes). The returned arrays are
 * views into `annexB`, not copies. Trailing zero bytes before a start code (the leading zero of a
 * four-byte start code, `trailing_zero_8bits`) are not part of the NAL unit and are dropped.
 * Data before the first start code is ignored.
 */
export function splitAnnexB(annexB: Uint8Array): Uint8Array[] {
  const nals: Uint8Array[] = [];
  const n = annexB.length;
  let start = -1; // first byte of the current NAL unit, -1 while before the first start code
  let i = 0;
  while (i + 2 < n) {
    if (annexB[i] === 0 && annexB[i + 1] === 0 && annexB[i + 2] === 1) {
      if (start >= 0) pushNal(nals, annexB, start, i);
      i += 3;
      start = i;
    } else {
      i += 1;
    }
  }
  if (start >= 0) pushNal(nals, annexB, start, n);
  return nals;
}

function pushNal(nals: Uint8Array[], data: Uint8Array, start: number, end: number): void {
  let e = end;
  while (e > start && data[e - 1] === 0) e -= 1;
  if (e > start) nals.push(data.subarray(start, e));
}

/** The `nal_unit_type` of a NAL unit (first byte, low five bits). */
export function h264NalType(nal: Uint8Array): number {
  return (nal[0] ?? 0) & 0x1f;
}

/** The NAL unit types of an Annex-B byte stream, in order. */
export function h264NalTypes(annexB: Uint8Array): number[] {
  return splitAnnexB(annexB).map(h264NalType);
}

/**
 * The RFC 6184 `profile-level-id` (six lowercase hex digits: profile_idc, the constraint flags
 * byte, level_idc) of the first SPS found in an Annex-B byte stream, e.g. `'42c01f'` for
 * constrained baseline level 3.1. `undefined` if there is no (complete) SPS.
 */
export function parseH264ProfileLevelId(annexB: Uint8Array): string | undefined {
  for (const nal of splitAnnexB(annexB)) {
    if (h264NalType(nal) === H264NalType.Sps) return profileLevelIdOfSps(nal);
  }
  return undefined;
}

/**
 * The `profile-level-id` of one SPS NAL unit (with its one-byte NAL header, without start code).
 * profile_idc, the constraint flags and level_idc are the three bytes after the header; they can't
 * contain an emulation prevention byte (profile_idc is never 0).
 */
export function profileLevelIdOfSps(sps: Uint8Array): string | undefined {
  if (sps.length < 4 || h264NalType(sps) !== H264NalType.Sps) return undefined;
  return Array.from(sps.subarray(1, 4), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Whether a profile-level-id denotes the Constrained Baseline profile (RFC 6184 Table 5): baseline
 * (66) with constraint_set1_flag, main (77) with constraint_set0_flag, or extended (88) with both.
 * Every WebRTC browser decodes it.
 */
export function isConstrainedBaseline(profileLevelId: string): boolean {
  if (!/^[0-9a-f]{6}$/i.test(profileLevelId)) return false;
  const profileIdc = parseInt(profileLevelId.slice(0, 2), 16);
  const iop = parseInt(profileLevelId.slice(2, 4), 16);
  if (profileIdc === 66) return (iop & 0x40) !== 0;
  if (profileIdc === 77) return (iop & 0x80) !== 0;
  if (profileIdc === 88) return (iop & 0xc0) === 0xc0;
  return false;
}

/**
 * Convert codec extradata to Annex B: returned as is (a copy) if it already is Annex B, converted
 * if it is an `avcC` record (ISO 14496-15 AVCDecoderConfigurationRecord: version 1, then SPS and
 * PPS with 16-bit lengths). `undefined` if empty or not understood.
 */
export function extradataToAnnexB(extradata: Uint8Array | null | undefined): Buffer | undefined {
  if (!extradata || extradata.length < 4) return undefined;
  if (
    extradata[0] === 0 &&
    extradata[1] === 0 &&
    (extradata[2] === 1 || (extradata[2] === 0 && extradata[3] === 1))
  ) {
    return Buffer.from(extradata);
  }
  if (extradata[0] !== 1 || extradata.length < 7) return undefined;
  const parts: Uint8Array[] = [];
  let pos = 5; // [0] version, [1..3] profile/compat/level, [4] length size, [5] SPS count
  const readSets = (countMask: number): boolean => {
    const count = (extradata[pos] ?? 0) & countMask;
    pos += 1;
    for (let k = 0; k < count; k++) {
      if (pos + 2 > extradata.length) return false;
      const len = ((extradata[pos] ?? 0) << 8) | (extradata[pos + 1] ?? 0);
      pos += 2;
      if (pos + len > extradata.length) return false;
      parts.push(ANNEX_B_START_CODE, extradata.subarray(pos, pos + len));
      pos += len;
    }
    return true;
  };
  // SPS list (count in the low 5 bits), then PPS list (count is a full byte).
  if (!readSets(0x1f)) return undefined;
  if (pos < extradata.length && !readSets(0xff)) return undefined;
  return parts.length > 0 ? Buffer.concat(parts) : undefined;
}

/** The first SPS and PPS of an Annex-B stream, re-serialized with 4-byte start codes, and the
 * profile-level-id of that SPS; undefined unless both are there. */
export function collectH264ParamSets(
  annexB: Uint8Array,
): { annexB: Buffer; profileLevelId: string } | undefined {
  let sps: Uint8Array | undefined;
  let pps: Uint8Array | undefined;
  for (const nal of splitAnnexB(annexB)) {
    const t = h264NalType(nal);
    if (t === H264NalType.Sps) sps ??= nal;
    else if (t === H264NalType.Pps) pps ??= nal;
  }
  const profileLevelId = sps && profileLevelIdOfSps(sps);
  if (!sps || !pps || !profileLevelId) return undefined;
  return { annexB: Buffer.concat([ANNEX_B_START_CODE, sps, ANNEX_B_START_CODE, pps]), profileLevelId };
}

/**
 * An H.264 keyframe access unit that begins with SPS and PPS, so a viewer can start decoding at
 * it: as it is when it does; with a copy of the SPS/PPS it carries put in front when they are not
 * first (e.g. after an AUD or SEI); with `known` (earlier SPS/PPS, Annex B) put in front when it
 * carries none (the Raspberry Pi encoder emits them only once). `carried` is what it carried.
 */
export function keyframeWithParamSets(
  accessUnit: Buffer,
  known: Buffer | undefined,
): { data: Buffer; carried: { annexB: Buffer; profileLevelId: string } | undefined } {
  const carried = collectH264ParamSets(accessUnit);
  if (carried) {
    const first = splitAnnexB(accessUnit)[0];
    if (first && h264NalType(first) === H264NalType.Sps) return { data: accessUnit, carried };
    return { data: Buffer.concat([carried.annexB, accessUnit]), carried };
  }
  return { data: known ? Buffer.concat([known, accessUnit]) : accessUnit, carried };
}

/**
 * The profile-level-id to declare for several H.264 streams that share one payload type (the
 * tracks of one multi-camera session: bundled m-sections may not give one payload type different
 * codec parameters, Chromium refuses such an answer as a "codec collision"). The level is an upper
 * bound of what a stream uses (RFC 6184 §8.1), so the highest level covers every track; the
 * profile is the first stream's. `undefined` for an empty list. `mixedProfiles` tells the caller
 * that the streams' profiles differ (not one encoder implementation), which one id cannot express.
 */
export function sessionProfileLevelId(
  ids: readonly string[],
): { profileLevelId: string; mixedProfiles: boolean } | undefined {
  const valid = ids.filter((id) => /^[0-9a-f]{6}$/i.test(id)).map((id) => id.toLowerCase());
  const first = valid[0];
  if (first === undefined) return undefined;
  const level = Math.max(...valid.map((id) => parseInt(id.slice(4, 6), 16)));
  const mixedProfiles = valid.some((id) => id.slice(0, 4) !== first.slice(0, 4));
  return { profileLevelId: `${first.slice(0, 4)}${level.toString(16).padStart(2, '0')}`, mixedProfiles };
}

/**
 * Rewrites the level of every H.264 `profile-level-id` in an answer whose fmtp line allows level
 * asymmetry (RFC 6184 §8.2.2: then the level describes what the answerer sends), keeping the
 * profile the offer chose. werift echoes the offer's fmtp (Chromium: level 3.1, `…1f`), which
 * under-declares a 1080p or 60 fps stream.
 */
export function withH264Level(sdp: string, levelIdc: number): string {
  const level = levelIdc.toString(16).padStart(2, '0');
  return sdp.replace(/^(a=fmtp:\d+ [^\r\n]*)$/gm, (line) =>
    /level-asymmetry-allowed=1/.test(line)
      ? line.replace(/profile-level-id=([0-9a-f]{4})[0-9a-f]{2}/i, `profile-level-id=$1${level}`)
      : line,
  );
}
