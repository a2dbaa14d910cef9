// The root CA publisher: every namespace has a ConfigMap kube-root-ca.crt
// holding the cluster CA's certificate, made again when deleted and set
// back when changed, so that pods can verify the API server (Kubernetes'
// pkg/controller/certificates/rootcacertpublisher). A pod's service account
// volume takes ca.crt from it.
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { objectKey, type Informer, type InformerFactory } from '../../client/informer.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';
import { namespaceGone, namespaceIsActive } from '../serviceaccount/controller.js';

export const rootCaConfigMapName = 'kube-root-ca.crt';
const descriptionAnnotation = 'kubernetes.io/description';
const description =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

const namespacesResource = { group: '', version: 'v1', plural: 'namespaces' };
const configMapsResource = { group: '', version: 'v1', plural: 'configmaps' };

export interface RootCaPublisherOptions extends QueueControllerOptions {
  /** The cluster CA's certificate (PEM), as the controller manager's --root-ca-file gives it. */
  rootCaPem: string;
}

export class RootCaPublisher extends QueueController {
  private readonly namespaces: Informer;
  private readonly configMaps: Informer;

  constructor(
    factory: InformerFactory,
    private readonly opts: RootCaPublisherOptions,
  ) {
    super(factory, opts);
    this.namespaces = this.informer(namespacesResource);
    this.configMaps = this.informer(configMapsResource, { fieldSelector: `metadata.name=${rootCaConfigMapName}` });
    this.namespaces.on({
      add: (ns) => this.queue.add(ns.metadata.name ?? ''),
      update: (_old, ns) => {
        if (namespaceIsActive(ns)) this.queue.add(ns.metadata.name ?? '');
      },
    });
    const enqueueNamespaceOf = (cm: KubeObject) => this.queue.add(cm.metadata.namespace ?? '');
    this.configMaps.on({ update: (_old, cm) => enqueueNamespaceOf(cm), delete: enqueueNamespaceOf });
  }

  async sync(namespace: string): Promise<void> {
    const cm = this.configMaps.get(objectKey({ metadata: { namespace, name: rootCaConfigMapName } }));
    const data = { 'ca.crt': this.opts.rootCaPem };
    if (!cm) {
      if (!this.namespaces.get(namespace)) return;
      try {
        await this.client.create({ ...configMapsResource, namespace }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: rootCaConfigMapName, namespace, annotations: { [descriptionAnnotation]: description } }, data });
        this.log(`configmap ${namespace}/${rootCaConfigMapName}: published`);
      } catch (err) {
        // Not again for a namespace that is gone or terminating; already there means the cache was behind.
        if (namespaceGone(err) || (err instanceof ApiError && err.code === 409)) return;
        throw err;
      }
      return;
    }
    const current = (cm as KubeObject & { data?: Record<string, string> }).data ?? {};
    const same = Object.keys(current).length === 1 && current['ca.crt'] === data['ca.crt'];
    if (same && cm.metadata.annotations?.[descriptionAnnotation]) return;
    const updated = { ...cm, metadata: { ...cm.metadata, annotations: { ...(cm.metadata.annotations ?? {}), [descriptionAnnotation]: description } }, data };
    await this.client.update({ ...configMapsResource, namespace, name: rootCaConfigMapName }, updated);
    this.log(`configmap ${namespace}/${rootCaConfigMapName}: set back to the cluster CA`);
  }
}
