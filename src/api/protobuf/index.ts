// Kubernetes' protobuf wire format (application/vnd.kubernetes.protobuf) for the
// built-in kinds: request bodies decode to the JSON form the same object has as
// application/json, and objects encode back the way kube-apiserver writes them.
// Custom resources and CustomResourceDefinitions have no protobuf form here
// (kube-apiserver serves custom resources as JSON only, and kubectl never sends
// CRDs as protobuf).
export {
  decodeKubernetesProtobuf,
  encodeKubernetesProtobuf,
  isKubernetesProtobuf,
  KUBERNETES_PROTOBUF_CONTENT_TYPE,
} from './envelope.js';
export { messageTypeForKind } from './descriptor.js';
export { formatGoDuration, parseGoDuration } from './go-duration.js';
