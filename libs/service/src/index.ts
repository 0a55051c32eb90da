/**
 * @robocam/service — the process plumbing robocam's apps share: environment variables read into
 * typed configuration (with zod), a clean exit on bad configuration, graceful shutdown on SIGTERM
 * and SIGINT, Node/V8 flags an app needs applied however it is launched, the pino-compatible
 * logger interface their servers accept (re-exported from @robocam/types), a token bucket for rate
 * limits, and the constant-time token comparison their servers authenticate clients with.
 */
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export { ConfigError, listSchema, logLevelSchema, portSchema, readEnv } from './env.js';
export type { LogLevel } from './env.js';
export { exitOnConfigError, shutdownOnSignals } from './process.js';
export type { ShutdownOptions } from './process.js';
export { missingNodeFlags, relaunchWithNodeFlags } from './node-flags.js';
export { tokensEqual } from './tokens.js';
export { TokenBucket } from './token-bucket.js';
