// The runc runtime: pods as OCI containers run by runc (see runtime.ts).
export { decodeSecret, prepareVolumes, volumeBinds, VolumeNotReadyError, writeAtomic, type PreparedVolume, type VolumeSource } from './volumes.js';
export { RuncRuntime, cgroupV2, defaultPauseImage, mountsUnder, type RuncNetworkOptions, type RuncRuntimeOptions } from './runtime.js';
export { CriLineSplitter, criTimestamp, parseCriLog, type CriLogLine } from './cri-log.js';
export { buildSpec, containerArgs, containerCapabilities, containerEnv, containerResources, containerUser, defaultCapabilities, envReferences, expandVars, fieldRefValue, formatMap, resolveImageUser, resourceFieldValue, SpecError, type EnvContext } from './spec.js';
