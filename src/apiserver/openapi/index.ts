// OpenAPI documents of the served API, as pure functions of the definitions and
// the resource catalogue: /openapi/v2 (JSON and gnostic protobuf) and /openapi/v3.
export type { ResourceDescriptor } from './resource-descriptor.js';
export { groupVersionOf, groupVersionPrefix, operationGroupWord } from './resource-descriptor.js';
export type { OperationOptions } from './operations.js';
export type { OpenAPIDocumentOptions } from './v2.js';
export { buildOpenAPIv2, KUBERNETES_OPENAPI_VERSION } from './v2.js';
// The protobuf form of /openapi/v2 is ./v2-protobuf.js, imported where it is needed (it loads protobufjs).
export { buildOpenAPIv3Index, buildOpenAPIv3ForGroupVersion, openAPIv3Hash, openAPIv3Path, toOpenAPIv3Schema } from './v3.js';
