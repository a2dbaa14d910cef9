// The process runtime: pods as plain host processes, no isolation (see runtime.ts).
export { ProcessRuntime, type ProcessRuntimeOptions } from './runtime.js';
export { resolveExecutable, rootfsPath } from './host-command.js';
export { unsupportedContainerFeatures, unsupportedVolumes, volumeEnvName, volumePathsAnnotation } from './limits.js';
