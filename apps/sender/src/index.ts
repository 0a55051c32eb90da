export { startHealthServer } from './health-server.js';
export type { HealthServerSettings } from './health-server.js';
