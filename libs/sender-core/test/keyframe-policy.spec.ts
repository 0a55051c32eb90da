import { describe, expect, it } from '@jest/globals';
import { InvalidEncoderSettingsError, type KeyframeCause } from '../src/encoder/index.js';
import { KeyframePolicy } from '../src/keyframe-policy.js';

const FRAME_MS = 1000 / 30;

/** A policy fed with frames 33 ms apart; `frame()` asks for one frame and reports it encoded. */
function policy(settings: ConstructorParameters<typeof KeyframePolicy>[0] = {}) {
  const p = new KeyframePolicy(settings);
  let at = 10_000;
  return {
    p,
    /** Encodes one frame; the encoder reports `cause` for an unforced keyframe. */
    frame: (cause?: KeyframeCause) => {
      at += FRAME_MS;
      const forced = p.forFrame(at);
      const keyframe = forced !== undefined || cause !== undefined;
      p.encoded({ keyframe, keyframeCause: forced !== undefined ? 'forced' : cause, monotonicMs: at });
      return forced;
    },
    skip: (ms: number) => {
      at += ms;
    },
  };
}

describe('KeyframePolicy', () => {
  it('forces nothing until asked', () => {
    const { frame } = policy({ intervalSec: 0 });
    for (let i = 0; i < 5; i++) expect(frame()).toBeUndefined();
  });

  it('coalesces a burst of requests into one keyframe', () => {
    const { p, frame } = policy();
    for (let i = 0; i < 10; i++) p.request('pli');
    expect(frame()).toBe('pli');
    expect(frame()).toBeUndefined();
    expect(p.coalesced).toBe(9);
    expect(p.produced.pli).toBe(1);
  });

  it('defers PLI/FIR within the minimum interval of the last keyframe, then serves them', () => {
    const { p, frame } = policy({ minRequestIntervalMs: 290 });
    p.request('pli');
    expect(frame()).toBe('pli');
    p.request('fir');
    const served: (string | undefined)[] = [];
    for (let i = 0; i < 10; i++) served.push(frame());
    // Frames 1..8 after the keyframe are within 290 ms (8 × 33.3 = 267 ms); frame 9 is at 300 ms.
    expect(served).toEqual([...new Array<undefined>(8).fill(undefined), 'fir', undefined]);
  });

  it('never defers a first frame or a joining viewer, and a join upgrades a deferred PLI', () => {
    const { p, frame } = policy();
    p.request('first');
    expect(frame()).toBe('first');
    p.request('join');
    expect(frame()).toBe('join');
    p.request('pli');
    expect(frame()).toBeUndefined();
    p.request('join');
    expect(frame()).toBe('join');
    expect(p.produced).toMatchObject({ first: 1, join: 2, pli: 0 });
  });

  it('makes periodic keyframes by capture time, counted from the last keyframe of any reason', () => {
    const { p, frame, skip } = policy({ intervalSec: 0.5 });
    p.request('first');
    const keys: number[] = [];
    for (let i = 0; i < 32; i++) if (frame() !== undefined) keys.push(i);
    expect(keys).toEqual([0, 15, 30]);
    // A gap in the frames (dropped or late) does not postpone the next one.
    skip(2000);
    expect(frame()).toBe('periodic');
    expect(p.produced.periodic).toBe(3);
  });

  it('counts a keyframe the encoder made by re-opening as reopen, and restarts the interval', () => {
    const { p, frame } = policy({ intervalSec: 1 });
    p.request('first');
    frame();
    for (let i = 0; i < 20; i++) frame();
    expect(frame('reopen')).toBeUndefined();
    // 1 s after the re-open keyframe, not after the first one.
    const keys: number[] = [];
    for (let i = 1; i <= 31; i++) if (frame() === 'periodic') keys.push(i);
    expect(keys).toEqual([30]);
    expect(p.produced).toMatchObject({ first: 1, reopen: 1, periodic: 1 });
  });

  it('attributes a forced keyframe to its reason even when the encoder outputs it a frame late', () => {
    const p = new KeyframePolicy({ intervalSec: 0 });
    expect(p.forFrame(67)).toBeUndefined();
    expect(p.encoded({ keyframe: true, keyframeCause: 'start', monotonicMs: 67 })).toBe('first');
    p.request('join');
    expect(p.forFrame(100)).toBe('join');
    expect(p.forFrame(133)).toBeUndefined();
    // A hardware encoder hands out frame 100 only with the call for frame 133.
    expect(p.encoded({ keyframe: true, keyframeCause: 'forced', monotonicMs: 100 })).toBe('join');
    expect(p.encoded({ keyframe: false, monotonicMs: 133 })).toBeUndefined();
    expect(p.produced.join).toBe(1);
  });

  it("counts the first viewer's join on the encoder's first frame as the first keyframe", () => {
    const p = new KeyframePolicy({ intervalSec: 0 });
    p.request('join');
    expect(p.forFrame(100)).toBe('first');
    expect(p.encoded({ keyframe: true, keyframeCause: 'forced', monotonicMs: 100 })).toBe('first');
    p.request('join');
    expect(p.forFrame(133)).toBe('join');
    expect(p.produced).toMatchObject({ first: 1, join: 0 });
  });

  it('forgets pending requests on reset', () => {
    const { p, frame } = policy({ intervalSec: 0 });
    p.request('pli');
    p.reset();
    expect(frame()).toBeUndefined();
    p.request('pli');
    expect(frame()).toBe('pli');
  });

  it('rejects intervals that cannot work', () => {
    expect(() => new KeyframePolicy({ intervalSec: -1 })).toThrow(InvalidEncoderSettingsError);
    expect(() => new KeyframePolicy({ intervalSec: Number.NaN })).toThrow(InvalidEncoderSettingsError);
    expect(() => new KeyframePolicy({ minRequestIntervalMs: -1 })).toThrow(InvalidEncoderSettingsError);
  });
});
