// The persistent volume controller: binding, the local-path provisioner and
// the default StorageClass.
export { VolumeController, type VolumeControllerOptions } from './controller.js';
export { findBestMatch, volumeMismatch, nodeMatchesTerms } from './matching.js';
export { localPathProvisioner, localPathClassName, provisionedVolume, localPathStorageClass } from './local-path.js';
