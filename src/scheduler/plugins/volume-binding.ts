// VolumeBinding, its WaitForFirstConsumer part: a claim of a class that waits
// for its first consumer learns the node the pod goes to (the
// volume.kubernetes.io/selected-node annotation), so the provisioner can make
// the volume there before the pod starts.
import type { RestClient } from '../../client/rest.js';
import type { CycleState, PreBindPlugin } from '../framework.js';
import type { PodInfo } from '../pod-info.js';
import { Status } from '../status.js';

export const selectedNodeAnnotation = 'volume.kubernetes.io/selected-node';

export class VolumeBinding implements PreBindPlugin {
  readonly name = 'VolumeBinding';

  constructor(private readonly client: RestClient) {}

  async preBind(_state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    const volumes = ((pod.pod.spec as { volumes?: { persistentVolumeClaim?: { claimName?: string } }[] } | undefined)?.volumes ?? []);
    for (const v of volumes) {
      const claimName = v.persistentVolumeClaim?.claimName;
      if (!claimName) continue;
      const claimPath = { group: '', version: 'v1', plural: 'persistentvolumeclaims', namespace: pod.namespace, name: claimName };
      const claim = await this.client.getIfExists(claimPath);
      if (!claim) return Status.unresolvable(`persistentvolumeclaim "${claimName}" not found`);
      const spec = (claim.spec ?? {}) as { volumeName?: string; storageClassName?: string };
      if (spec.volumeName || !spec.storageClassName || claim.metadata.annotations?.[selectedNodeAnnotation] === nodeName) continue;
      const cls = await this.client.getIfExists({ group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses', name: spec.storageClassName });
      if ((cls as { volumeBindingMode?: string } | undefined)?.volumeBindingMode !== 'WaitForFirstConsumer') continue;
      await this.client.patch(claimPath, { metadata: { annotations: { [selectedNodeAnnotation]: nodeName } } }, 'merge');
    }
    return Status.success();
  }
}
