// Images for the node agent: a content-addressed store (OCI layout on disk), imports of OCI
// layouts / OCI archives / docker-archives, layer unpacking for overlay, and a local busybox image.
export {
  ImageStore, DigestMismatchError, ImageNotFoundError, extractArchive, hashStream, sha256,
  type ImageSummary, type ImportOptions, type ImportedImage, type LayerInfo, type RemoveResult, type ResolvedImage,
} from './store.js';
export { unpackLayer, unpackLayers, overlayLowerdir, flattenLayers, extractLayer, resolveInRoot, defaultWhiteoutFormat, type UnpackOptions, type UnpackStats, type WhiteoutFormat } from './unpack.js';
export { buildBusyboxImage, type BusyboxImage, type BusyboxImageOptions } from './busybox.js';
export { normalizeReference, parseReference, InvalidReferenceError, type ParsedReference } from './reference.js';
export { saveOciArchive, type SavedImage } from './save.js';
export { readTar, writeTar, tarHeader, tarPadding, tarTrailer, type TarEntry, type TarHeader, type TarWriteEntry } from './tar.js';
export { MediaType, hostPlatform, type ContainerConfig, type Descriptor, type ImageConfigFile, type ImageIndex, type ImageManifest, type Platform } from './oci.js';
export { pullImage, ImagePullError, manifestAccept, type PullOptions, type PullProgress, type PulledImage, type ImagePullReason } from './pull.js';
export { pushImage, ImagePushError, type PushOptions, type PushedImage } from './push.js';
export { RegistryClient, RegistryError, parseChallenges, isLoopbackHost, type RegistryAuth, type RegistryClientOptions, type RegistryErrorCode } from './registry-client.js';
