// The storage layer's public surface: the Backend contract, its three
// implementations (etcd's by type: openBackend loads it) and the function
// that picks one from a --storage flag.

export { BackendUnavailableError, CompactedError } from './backend.js';
export type { Backend, KeyValue, RangeOptions, RangeResult, Watch, WatchEvent, WatchOptions, WriteResult } from './backend.js';
export { FutureRevisionError } from './errors.js';
export { MemoryBackend } from './memory.js';
export { SqliteBackend } from './sqlite.js';
export type { SqliteBackendOptions } from './sqlite.js';
// The etcd backend is loaded by openBackend only when asked for (its client takes a good part of a cold start to load).
export type { EtcdBackend, EtcdBackendOptions } from './etcd.js';
export { Compactor, defaultCompaction } from './compactor.js';
export type { CompactorOptions } from './compactor.js';
export { openBackend } from './open.js';
