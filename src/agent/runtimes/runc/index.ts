// The runc runtime: pods as OCI containers run by runc (see runtime.ts).
export { decodeSecret, prepareVolumes, volumeBinds, VolumeNotReadyError, writeAtomic, type PreparedVolume, type VolumeSource } from '../volumes.js';
export { RuncRuntime, cgroupV2, defaultPauseImage, mountsUnder, type RuncNetworkOptions, type RuncRuntimeOptions } from './runtime.js';
export { CriLineSplitter, criTimestamp, parseCriLog, type CriLogLine } from '../cri-log.js';
export { containerArgs, containerEnv, envReferences, expandVars, fieldRefValue, formatMap, resourceFieldValue, SpecError, type EnvContext } from '../container-env.js';
export { buildSpec, containerCapabilities, containerResources, containerUser, defaultCapabilities, resolveImageUser } from './spec.js';
