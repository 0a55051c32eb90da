/**
 * @robocam/signaling — robocam's signaling server as a library. `createSignalingServer()` runs the
 * whole server on one HTTP port (WebSocket signaling, WHEP, /healthz, /metrics); its parts are
 * exported for embedding: the transport-free {@link SignalingRouter}, the {@link WebSocketAdapter}
 * that drives it over WebSocket, and the {@link WhepEndpoint} that drives it over HTTP.
 */
export { createSignalingServer } from './server.js';
export { createSignalingHandler } from './handler.js';
export type { SignalingHandler, SignalingHandlerSettings } from './handler.js';
export type { SignalingServer, SignalingServerSettings, SignalingStats } from './server.js';
export { SignalingRouter } from './router.js';
export { UNAUTHORIZED_CLOSE_CODE } from './peer.js';
export type { Peer, PeerLink, PeerRole, PeerTransport } from './peer.js';
export type { RouterObserver, SignalingRouterSettings } from './router.js';
export { CLOSE_CODES, tokenAuthorizer, WebSocketAdapter } from './ws-adapter.js';
export type { WebSocketAdapterSettings } from './ws-adapter.js';
export { WhepEndpoint } from './whep.js';
export type { WhepIceServer, WhepSettings } from './whep.js';
export { WhepError } from './errors.js';
export type { WhepErrorCode } from './errors.js';
export { SignalingMetrics } from './metrics.js';
export { readSignalingConfig } from './env-config.js';
export type { SignalingEnvConfig } from './env-config.js';
