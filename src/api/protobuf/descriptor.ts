// The message types of the built-in API groups, built from descriptor.json on
// first use so servers that never see a protobuf body never pay for it.
import protobuf from 'protobufjs';
import { splitApiVersion } from '../resources.js';
import { descriptorFile, type GoJsonRules } from './descriptor-file.js';

export type { GoJsonRule, GoJsonRules } from './descriptor-file.js';

export interface KubeProtobufSchema {
  root: protobuf.Root;
  /** Keyed by message name without the leading dot, then by proto field name. */
  goJson: GoJsonRules;
}

let loaded: KubeProtobufSchema | undefined;

export function kubeProtobufSchema(): KubeProtobufSchema {
  if (!loaded) {
    const file = descriptorFile();
    const root = protobuf.Root.fromJSON(file.protobuf);
    root.resolveAll();
    loaded = { root, goJson: file.goJson };
  }
  return loaded;
}

const metaPackage = 'k8s.io.apimachinery.pkg.apis.meta.v1';

/**
 * Kinds of meta/v1 that every group version carries (kube-apiserver registers
 * them with each one), so "apps/v1 DeleteOptions" is meta/v1's message.
 */
const metaKinds = new Set([
  'DeleteOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions', 'GetOptions', 'ListOptions',
  'Status', 'WatchEvent', 'APIVersions', 'APIGroup', 'APIGroupList', 'APIResourceList',
]);

/** The proto package that holds a group version's messages (k8s.io/api/<short group>/<version>). */
function packageOf(apiVersion: string): string {
  const { group, version } = splitApiVersion(apiVersion);
  if (group === 'meta.k8s.io') return version === 'v1' ? metaPackage : `k8s.io.apimachinery.pkg.apis.meta.${version}`;
  return `k8s.io.api.${group === '' ? 'core' : group.split('.')[0]}.${version}`;
}

/** The message type of a kind; undefined when Nami has no protobuf form for it. */
export function messageTypeForKind(apiVersion: string, kind: string): protobuf.Type | undefined {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(kind) || !/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion)) return undefined;
  const { root } = kubeProtobufSchema();
  const found = root.lookup(`${packageOf(apiVersion)}.${kind}`);
  if (found instanceof protobuf.Type) return found;
  if (metaKinds.has(kind)) return root.lookupType(`${metaPackage}.${kind}`);
  return undefined;
}
