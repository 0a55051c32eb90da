// The SDP work of the WHEP bridge (RFC 9725, trickle fragments per RFC 8840): checking an offer,
// parsing a PATCH body, rewriting an offer for an ICE restart, cutting the ICE part of an answer.
import { LIMITS } from '@robocam/protocol';
import { WhepError } from './errors.js';

/** A WHEP offer must be a real SDP offer with video, ICE credentials and a DTLS fingerprint. */
export function validateOffer(sdp: string): void {
  const lines = sdp.split(/\r?\n/);
  const ok =
    lines[0] === 'v=0' &&
    lines.some((line) => line.startsWith('m=video ')) &&
    lines.some((line) => line.startsWith('a=ice-ufrag:')) &&
    lines.some((line) => line.startsWith('a=fingerprint:')) &&
    // Control characters other than line breaks have no place in SDP.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(sdp);
  if (!ok)
    throw new WhepError(400, 'not a usable SDP offer (needs v=0, a video m-line, ICE and DTLS attributes)');
}

export function iceUfrag(sdp: string): string | undefined {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
}

export interface SdpFragment {
  ufrag: string | undefined;
  pwd: string | undefined;
  candidates: {
    candidate: string;
    sdpMid: string | null;
    sdpMLineIndex: number | null;
    usernameFragment: string | null;
  }[];
  endOfCandidates: boolean;
}

/** Parses `application/trickle-ice-sdpfrag` (RFC 8840). */
export function parseSdpFragment(text: string): SdpFragment {
  const fragment: SdpFragment = { ufrag: undefined, pwd: undefined, candidates: [], endOfCandidates: false };
  let mid: string | null = null;
  let mLineIndex = -1;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    if (line.startsWith('a=ice-ufrag:')) fragment.ufrag = line.slice(12);
    else if (line.startsWith('a=ice-pwd:')) fragment.pwd = line.slice(10);
    else if (line.startsWith('m=')) mLineIndex += 1;
    else if (line.startsWith('a=mid:')) mid = line.slice(6);
    else if (line.startsWith('a=candidate:')) {
      if (line.length > LIMITS.maxCandidateLength) throw new WhepError(400, 'candidate line too long');
      fragment.candidates.push({
        candidate: line.slice(2),
        sdpMid: mid,
        sdpMLineIndex: mLineIndex >= 0 ? mLineIndex : null,
        usernameFragment: fragment.ufrag ?? null,
      });
    } else if (line === 'a=end-of-candidates') fragment.endOfCandidates = true;
    else if (!/^[a-z]=/.test(line)) throw new WhepError(400, 'not an SDP fragment');
  }
  if (fragment.candidates.length > 64) throw new WhepError(400, 'too many candidates');
  return fragment;
}

/** The stored offer with new ICE credentials and no stale candidates. */
export function restartOffer(offer: string, ufrag: string, pwd: string): string {
  return offer
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('a=candidate:') && line !== 'a=end-of-candidates')
    .map((line) =>
      line.startsWith('a=ice-ufrag:')
        ? `a=ice-ufrag:${ufrag}`
        : line.startsWith('a=ice-pwd:')
          ? `a=ice-pwd:${pwd}`
          : line,
    )
    .join('\r\n');
}

/** The ICE part of an answer as an SDP fragment: credentials, then each m-line's candidates. */
export function answerFragment(answer: string): string {
  const out: string[] = [];
  const lines = answer.split(/\r?\n/);
  const ufrag = lines.find((line) => line.startsWith('a=ice-ufrag:'));
  const pwd = lines.find((line) => line.startsWith('a=ice-pwd:'));
  if (ufrag !== undefined) out.push(ufrag);
  if (pwd !== undefined) out.push(pwd);
  for (const line of lines) {
    if (
      line.startsWith('m=') ||
      line.startsWith('a=mid:') ||
      line.startsWith('a=candidate:') ||
      line === 'a=end-of-candidates'
    ) {
      out.push(line);
    }
  }
  return `${out.join('\r\n')}\r\n`;
}
