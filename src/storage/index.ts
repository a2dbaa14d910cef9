// The storage layer's public surface: the Backend contract, its three
// implementations and the function that picks one from a --storage flag.

export { BackendUnavailableError, CompactedError } from './backend.js';
export type { Backend, KeyValue, RangeOptions, RangeResult, Watch, WatchEvent, WatchOptions, WriteResult } from './backend.js';
export { FutureRevisionError } from './errors.js';
export { MemoryBackend } from './memory.js';
export { SqliteBackend } from './sqlite.js';
export type { SqliteBackendOptions } from './sqlite.js';
export { EtcdBackend } from './etcd.js';
export type { EtcdBackendOptions } from './etcd.js';
export { Compactor, defaultCompaction } from './compactor.js';
export type { CompactorOptions } from './compactor.js';
export { openBackend } from './open.js';
