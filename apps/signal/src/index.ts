export { createSignalingServer } from './signaling-server.js';
export type { SignalingServer, SignalingServerSettings } from './signaling-server.js';
export { readConfig, ConfigError } from './config.js';
export type { Logger } from '@robocam/service';
