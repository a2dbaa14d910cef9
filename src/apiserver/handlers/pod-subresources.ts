// The pods' binding and eviction subresources: how a scheduler places a pod
// on a node, and how `kubectl drain` removes one while honouring
// PodDisruptionBudgets (Kubernetes' BindingREST and EvictionREST).
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, TooManyRequestsError } from '../../api/errors.js';
import { isPlainObject, withoutResourceVersion, type KubeObject } from '../../api/object.js';
import { selectorFromLabelSelector, type LabelSelector } from '../../api/labels/index.js';
import { decodeObjectBody, readBody } from '../http/body.js';
import { sendJson } from '../http/respond.js';
import { nowSeconds, type GenericStore } from '../registry/store.js';
import type { ResourceRequest } from './resource.js';

function successStatus(code: number): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code };
}

async function readNamedBody(r: ResourceRequest, kind: string): Promise<Record<string, unknown>> {
  const body = decodeObjectBody(await readBody(r.req), r.req.headers['content-type']);
  if (!isPlainObject(body)) throw new BadRequestError(`the body of the request must be a ${kind} object`);
  const meta = isPlainObject(body.metadata) ? body.metadata : {};
  if (meta.name !== undefined && meta.name !== r.info.name) {
    throw new BadRequestError(`name in URL does not match name in ${kind} object`);
  }
  return body;
}

/** POST pods/{name}/binding: sets spec.nodeName once, with PodScheduled=True. */
export async function handleBinding(r: ResourceRequest): Promise<void> {
  const { store, info } = r;
  const binding = await readNamedBody(r, 'Binding');
  const target = isPlainObject(binding.target) ? binding.target : {};
  const node = typeof target.name === 'string' ? target.name : '';
  if (!node) throw new BadRequestError('Binding.target.name: Required value: must be set');
  if (target.kind !== undefined && target.kind !== '' && target.kind !== 'Node') {
    throw new BadRequestError(`Binding.target.kind: Unsupported value: ${JSON.stringify(target.kind)}: supported values: "Node"`);
  }
  const annotations = isPlainObject(binding.metadata) && isPlainObject(binding.metadata.annotations) ? (binding.metadata.annotations as Record<string, string>) : {};
  await store.update(
    info.namespace,
    info.name!,
    (pod) => {
      if (!pod) throw new NotFoundError(store.ref(info.name));
      if (pod.metadata.deletionTimestamp) throw new ConflictError(store.ref(info.name), 'pod is being deleted, cannot be assigned to a host');
      const spec = isPlainObject(pod.spec) ? pod.spec : {};
      if (typeof spec.nodeName === 'string' && spec.nodeName !== '') {
        throw new ConflictError(store.ref(info.name), `pod ${info.name} is already assigned to node "${spec.nodeName}"`);
      }
      spec.nodeName = node;
      pod.spec = spec;
      if (Object.keys(annotations).length > 0) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...annotations };
      const status = isPlainObject(pod.status) ? pod.status : {};
      const conditions = (Array.isArray(status.conditions) ? status.conditions : []).filter((c) => !(isPlainObject(c) && c.type === 'PodScheduled'));
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowSeconds() });
      pod.status = { ...status, conditions };
      pod.metadata = withoutResourceVersion(pod.metadata);
      return pod;
    },
    { fieldManager: r.query.get('fieldManager') ?? 'kube-scheduler', subresource: 'binding', dryRun: r.query.getAll('dryRun').length > 0 },
  );
  sendJson(r.res, 201, successStatus(201));
}

function isTerminal(pod: KubeObject): boolean {
  const phase = isPlainObject(pod.status) ? pod.status.phase : undefined;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** POST pods/{name}/eviction: deletes the pod unless a PodDisruptionBudget forbids it now. */
export async function handleEviction(r: ResourceRequest, budgets: GenericStore | undefined): Promise<void> {
  const { store, info } = r;
  const eviction = await readNamedBody(r, 'Eviction');
  const pod = await store.get(info.namespace, info.name!);
  if (!isTerminal(pod) && !pod.metadata.deletionTimestamp && budgets) {
    const listing = await budgets.list(info.namespace, {});
    const matching = listing.items.map((i) => i.object).filter((pdb) => {
      const spec = isPlainObject(pdb.spec) ? pdb.spec : {};
      if (!isPlainObject(spec.selector)) return false;
      const selector = selectorFromLabelSelector(spec.selector as LabelSelector);
      return !selector.empty() && selector.matches(pod.metadata.labels ?? {});
    });
    if (matching.length > 1) throw new BadRequestError('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    const pdb = matching[0];
    if (pdb) await spendDisruption(budgets, pdb, pod);
  }
  const options = isPlainObject(eviction.deleteOptions) ? eviction.deleteOptions : {};
  await store.delete(info.namespace, info.name!, {
    gracePeriodSeconds: typeof options.gracePeriodSeconds === 'number' ? options.gracePeriodSeconds : undefined,
    preconditions: isPlainObject(options.preconditions) ? (options.preconditions as { uid?: string; resourceVersion?: string }) : undefined,
    dryRun: r.query.getAll('dryRun').length > 0 || (Array.isArray(options.dryRun) && options.dryRun.length > 0),
  });
  sendJson(r.res, 201, successStatus(201));
}

function disruptionRefused(cause: string): TooManyRequestsError {
  const err = new TooManyRequestsError("Cannot evict pod as it would violate the pod's disruption budget.", 0);
  err.details!.causes = [{ reason: 'DisruptionBudget', message: cause }];
  return err;
}

/** Takes one allowed disruption from the budget, recording the pod as disrupted, or refuses with 429. */
async function spendDisruption(budgets: GenericStore, pdb: KubeObject, pod: KubeObject): Promise<void> {
  await budgets.update(
    pdb.metadata.namespace,
    pdb.metadata.name!,
    (current) => {
      if (!current) throw new NotFoundError(budgets.ref(pdb.metadata.name));
      const status = isPlainObject(current.status) ? current.status : {};
      const allowed = typeof status.disruptionsAllowed === 'number' ? status.disruptionsAllowed : 0;
      const generation = current.metadata.generation ?? 1;
      // As kube-apiserver's eviction REST: no suggested retry time (clients such as kubectl drain wait their own interval and report each refusal).
      if (typeof status.observedGeneration !== 'number' || status.observedGeneration < generation) {
        throw disruptionRefused(`The disruption budget ${current.metadata.name} is still being processed by the server.`);
      }
      if (allowed < 0) {
        throw new ForbiddenError({ group: 'policy', resource: 'poddisruptionbudget', name: current.metadata.name }, `poddisruptionbudget.policy "${current.metadata.name}" is forbidden: pdb disruptions allowed is negative`);
      }
      if (allowed === 0) {
        const desired = typeof status.desiredHealthy === 'number' ? status.desiredHealthy : 0;
        const healthy = typeof status.currentHealthy === 'number' ? status.currentHealthy : 0;
        throw disruptionRefused(`The disruption budget ${current.metadata.name} needs ${desired} healthy pods and has ${healthy} currently`);
      }
      const disrupted = isPlainObject(status.disruptedPods) ? status.disruptedPods : {};
      current.status = {
        ...status,
        disruptionsAllowed: allowed - 1,
        disruptedPods: { ...disrupted, [pod.metadata.name!]: nowSeconds() },
      };
      // Not pinned: concurrent evictions retry against the budget as it is then, instead of failing with a conflict.
      current.metadata = withoutResourceVersion(current.metadata);
      return current;
    },
    { fieldManager: 'nami-apiserver', subresource: 'status' },
  );
}
