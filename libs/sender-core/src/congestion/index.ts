/**
 * Congestion control for one viewer's link: decode transport-wide feedback, estimate the
 * bandwidth (delay-based GCC-style trendline + AIMD, bounded by loss). Internal to
 * `@robocam/sender`; the sender wires it per viewer.
 */
export { BandwidthEstimator } from './bandwidth-estimator.js';
export type { BandwidthEstimate, BandwidthEstimatorSettings } from './bandwidth-estimator.js';
export type { BandwidthUsage } from './delay-based.js';
export type { ProbeCluster } from './probing.js';
export { Pacer } from './pacer.js';
export type { PacedFrame, PacerSettings } from './pacer.js';
export {
  ReferenceTimeUnwrapper,
  SequenceUnwrapper,
  decodeTransportFeedback,
  REFERENCE_TIME_WRAP_US,
} from './transport-feedback.js';
export type {
  DecodeResult,
  PacketStatus,
  TransportFeedback,
  TransportFeedbackError,
} from './transport-feedback.js';
