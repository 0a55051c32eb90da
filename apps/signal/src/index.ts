// The app's configuration reader, for its tests and tools; the server itself is @robocam/signaling.
export { readConfig, ConfigError } from './config.js';
export type { SignalAppConfig } from './config.js';
