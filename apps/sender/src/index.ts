export { readConfig, ConfigError } from './config.js';
export type { SenderAppConfig } from './config.js';
export { startHealthServer } from './health-server.js';
export type { HealthServerSettings } from './health-server.js';
