// The runc runtime: pods as OCI containers run by runc (see runtime.ts).
export { RuncRuntime, cgroupV2, defaultPauseImage, mountsUnder, type RuncNetworkOptions, type RuncRuntimeOptions } from './runtime.js';
export { CriLineSplitter, criTimestamp, parseCriLog, type CriLogLine } from './cri-log.js';
export { buildSpec, containerArgs, containerCapabilities, containerEnv, containerResources, containerUser, defaultCapabilities, expandVars, resolveImageUser, SpecError } from './spec.js';
