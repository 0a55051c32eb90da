export { readConfig, ConfigError } from './config.js';
export type { WebAppConfig } from './config.js';
export { createWebApp, startWebServer } from './server.js';
export type { ViewerConfig, WebAppSettings, WebServer, WebServerSettings } from './server.js';
export { resolveSignalingUrl, parseHost, cspSourceOf } from './signaling-url.js';
export type { RequestOrigin, SignalingTarget } from './signaling-url.js';
export { securityHeaders } from './security-headers.js';
export type { Logger } from '@robocam/service';
