// The one Logger of robocam lives in @robocam/types; the apps' servers accept that interface, and
// this package re-exports it so an app wiring pino needs one import.
export { silentLogger } from '@robocam/types';
export type { Logger } from '@robocam/types';
