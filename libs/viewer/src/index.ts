/**
 * @robocam/viewer — the page that plays robot cameras in a browser (built into `dist/public`:
 * content-hashed, precompressed) and the koa app that serves it with its `/config.json`, security
 * headers and caching policy. Run it standalone (`startViewerServer`) or mount it in a robot's own
 * koa server (`viewerMiddleware`).
 */
export { createViewerApp, startViewerServer, viewerMiddleware, viewerPublicDir } from './server.js';
export type { ViewerConfig, ViewerServer, ViewerServerSettings, ViewerServingSettings } from './server.js';
export { pageIceServers, turnRestCredentials } from './ice-servers.js';
export type { IceServerSettings, PageIceServer } from './ice-servers.js';
export { cspSourceOf, parseHost, resolveSignalingUrl } from './signaling-url.js';
export type { RequestOrigin, SignalingTarget } from './signaling-url.js';
export { securityHeaders } from './security-headers.js';
export { readViewerConfig } from './env-config.js';
export { diagnose, diagnoseSender, parseCandidate } from './doctor.js';
export type {
  CandidateInfo,
  CandidateType,
  ConnectivityFacts,
  DoctorDeadlines,
  DoctorReport,
  SenderFacts,
  Verdict,
  VerdictCode,
} from './doctor.js';
export type { ViewerEnvConfig } from './env-config.js';
export type { RobocamHook, TileSnapshot, TileStatus } from './page-hook.js';
