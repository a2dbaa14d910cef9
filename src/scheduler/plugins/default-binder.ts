// DefaultBinder: binds through the pods/binding subresource, as kube-scheduler does.
import { resourceUrlPath, type RestClient } from '../../client/rest.js';
import type { BindPlugin, CycleState } from '../framework.js';
import type { PodInfo } from '../pod-info.js';
import { Status } from '../status.js';

export class DefaultBinder implements BindPlugin {
  readonly name = 'DefaultBinder';

  constructor(private readonly client: RestClient) {}

  async bind(_state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    const path = resourceUrlPath({ group: '', version: 'v1', plural: 'pods', namespace: pod.namespace, name: pod.name, subresource: 'binding' });
    await this.client.request('POST', path, {
      body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
    });
    return Status.success();
  }
}
