import { ClockOffsetEstimator, type ClockEstimate } from '@robocam/protocol';

/**
 * The offset of one sender's clock from this browser's, from ping/pong exchanges over the
 * signaling server: the lowest-round-trip exchange of the last 16 wins (its error is at most
 * rtt/2). One per sender id: a restarted sender gets a new id and a fresh estimate.
 */
export class SenderClock {
  readonly #estimator = new ClockOffsetEstimator(16);
  #last: ClockEstimate | undefined;

  /** Adds the result of `SignalingClient.ping(session)`. */
  add(estimate: ClockEstimate): void {
    // ping() reports offset and round trip; this is the exchange (t0, t1, t2) they come from,
    // shifted to t0 = 0, which is all the estimator needs.
    this.#last = this.#estimator.add({
      t0: 0,
      t1: estimate.offsetMs + estimate.rttMs / 2,
      t2: estimate.rttMs,
    });
  }

  /** Sender clock minus local clock, in ms; undefined before the first exchange. */
  get offsetMs(): number | undefined {
    return this.#last?.offsetMs;
  }

  /** Round trip of the exchange the offset comes from, in ms. */
  get rttMs(): number | undefined {
    return this.#last?.rttMs;
  }
}
