// The npm "events" package (Node's EventEmitter for browsers) ships no types, and this package
// compiles without @types/node so that nothing Node-only slips into the browser entry. Only the
// constructor is needed: typed-emitter supplies the typed method signatures.
declare module 'events' {
  export class EventEmitter {}
}
