// The pod status a node agent reports, computed as the kubelet computes it
// (pkg/kubelet/kubelet_pods.go generateAPIPodStatus, getPhase,
// convertToAPIContainerStatuses; pkg/kubelet/status/generate.go): from the
// pod's spec, what the runtime says about its sandbox and containers, and the
// status reported before. Pure functions: no I/O, the clock is an argument.
import { isPlainObject, type KubeObject } from '../api/object.js';
import { ephemeralContainers, initContainers, isHostNetwork, isSidecar, podStatusOf, regularContainers, restartPolicyOf, type ContainerSpec } from './pod-spec.js';
import type { RuntimeContainer, RuntimePod } from './runtime.js';
import { apiTime } from './timestamps.js';

export type Json = Record<string, unknown>;

/** The conditions the kubelet owns; any other condition on a pod belongs to someone else and is left alone. */
export const kubeletConditionTypes = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'] as const;

export interface WaitingReason {
  reason: string;
  message: string;
}

export interface PodStatusInput {
  pod: KubeObject;
  /** The status this agent reported last, or the API server's when it has reported none. */
  oldStatus: Json;
  runtimePod: RuntimePod | undefined;
  /** Scheme of container IDs ("fake" gives fake://...). */
  runtimeType: string;
  hostIPs: string[];
  /** Why containers that should run are not running: CrashLoopBackOff, start failures (the kubelet's reason cache). */
  waitingReasons?: ReadonlyMap<string, WaitingReason>;
  /** The pod is being torn down or has finished: its containers will not start again. */
  podIsTerminal: boolean;
  now: number;
  /** The probe manager's started / ready of a running container run; without it a running container is started and ready. */
  probeState?: (container: ContainerSpec, containerId: string) => { started: boolean; ready: boolean };
}

function asObjects(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter(isPlainObject) : [];
}

function stateOf(status: Json): Json {
  return isPlainObject(status.state) ? status.state : {};
}

function goList(names: string[]): string {
  return `[${names.join(' ')}]`;
}

/** The runs of one container, newest first. */
function runsOf(runtimePod: RuntimePod | undefined, name: string): RuntimeContainer[] {
  if (!runtimePod) return [];
  return runtimePod.containers.filter((c) => c.name === name).sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
}

function terminatedOf(c: RuntimeContainer, containerID: string): Json {
  const t: Json = { exitCode: c.exitCode ?? 0 };
  if (c.reason) t.reason = c.reason;
  if (c.message) t.message = c.message;
  t.startedAt = c.startedAt === undefined ? null : apiTime(c.startedAt);
  t.finishedAt = c.finishedAt === undefined ? null : apiTime(c.finishedAt);
  t.containerID = containerID;
  return t;
}

/** The kubelet's convertToAPIContainerStatuses, with started / ready from the probe manager. */
function containerStatuses(input: PodStatusInput, containers: ContainerSpec[], oldStatuses: Json[], kind: 'init' | 'regular' | 'ephemeral'): Json[] {
  const hasInit = initContainers(input.pod).length > 0;
  const defaultWaiting = hasInit ? 'PodInitializing' : 'ContainerCreating';
  const old = new Map(oldStatuses.map((s) => [s.name, s]));
  return containers.map((spec) => {
    const previous = old.get(spec.name);
    const [latest, before] = runsOf(input.runtimePod, spec.name);
    let status: Json;
    if (latest) {
      const containerID = `${input.runtimeType}://${latest.id}`;
      let state: Json;
      if (latest.state === 'running') state = { running: { startedAt: apiTime(latest.startedAt ?? latest.createdAt) } };
      else if (latest.state === 'exited') state = { terminated: terminatedOf(latest, containerID) };
      // Created but not yet running: the kubelet shows an empty waiting state; ContainerCreating says more.
      else state = { waiting: { reason: 'ContainerCreating' } };
      const lastState: Json = before && before.state === 'exited' ? { terminated: terminatedOf(before, `${input.runtimeType}://${before.id}`) } : {};
      status = { name: spec.name, state, lastState, ready: false, restartCount: latest.attempt, image: latest.image, imageID: latest.imageRef, containerID, started: false };
    } else if (previous && isPlainObject(stateOf(previous).terminated)) {
      // A container that ran to its end keeps the status it ended with.
      status = structuredClone(previous);
    } else {
      status = {
        name: spec.name,
        state: { waiting: { reason: defaultWaiting } },
        lastState: previous && isPlainObject(previous.lastState) ? previous.lastState : {},
        ready: false,
        restartCount: previous && typeof previous.restartCount === 'number' ? previous.restartCount : 0,
        image: spec.image,
        imageID: '',
        started: false,
      };
    }
    // A container that will be started again shows why it waits, its last run as lastState.
    const waiting = input.waitingReasons?.get(spec.name);
    if (waiting && !input.podIsTerminal && !isPlainObject(stateOf(status).running)) {
      const current = stateOf(status);
      if (isPlainObject(current.terminated)) status.lastState = { terminated: current.terminated };
      status.state = { waiting: { reason: waiting.reason, message: waiting.message } };
    }
    // The probe manager's part: started and ready follow the startup and readiness probes of the running run.
    const running = isPlainObject(stateOf(status).running);
    const probed = running && latest && input.probeState ? input.probeState(spec, latest.id) : { started: running, ready: running };
    status.started = probed.started;
    if (kind === 'init' && !isSidecar(spec)) {
      const t = stateOf(status).terminated;
      status.ready = isPlainObject(t) && t.exitCode === 0;
      status.started = running;
    } else if (kind === 'ephemeral') {
      // Nothing probes an ephemeral container, and it never counts towards the pod's readiness.
      status.ready = false;
      status.started = running;
    } else status.ready = probed.ready;
    return status;
  });
}

function statusByName(statuses: Json[], name: string): Json | undefined {
  return statuses.find((s) => s.name === name);
}

function hasAnyRegularContainerStarted(pod: KubeObject, statuses: Json[]): boolean {
  return regularContainers(pod).some((c) => {
    const s = statusByName(statuses, c.name);
    if (!s) return false;
    const state = stateOf(s);
    return isPlainObject(state.running) || isPlainObject(state.terminated) || (isPlainObject(s.lastState) && isPlainObject(s.lastState.terminated));
  });
}

/** A container's status as getPhase reads it: the status, its state and its last state (undefined when it has none yet). */
function phaseView(statuses: Json[], name: string): { s: Json; state: Json; last: Json } | undefined {
  const s = statusByName(statuses, name);
  if (!s) return undefined;
  return { s, state: stateOf(s), last: isPlainObject(s.lastState) ? s.lastState : {} };
}

/** The kubelet's getPhase. */
export function podPhase(pod: KubeObject, statuses: Json[], podIsTerminal: boolean, podHasInitialized: boolean): string {
  const policy = restartPolicyOf(pod);
  let pendingRestartableInit = 0;
  let pendingRegularInit = 0;
  let failedInitialization = 0;
  for (const c of initContainers(pod)) {
    if (isSidecar(c)) continue;
    const view = phaseView(statuses, c.name);
    if (!view) {
      pendingRegularInit++;
      continue;
    }
    const { state, last } = view;
    if (isPlainObject(state.running)) pendingRegularInit++;
    else if (isPlainObject(state.terminated)) {
      if (state.terminated.exitCode !== 0) failedInitialization++;
    } else if (isPlainObject(state.waiting)) {
      if (isPlainObject(last.terminated)) {
        if (last.terminated.exitCode !== 0) failedInitialization++;
      } else pendingRegularInit++;
    } else pendingRegularInit++;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of initContainers(pod)) {
    if (!isSidecar(c)) continue;
    const view = phaseView(statuses, c.name);
    if (!view) {
      unknown++;
      continue;
    }
    const { s, state, last } = view;
    if (isPlainObject(state.running)) {
      if (s.started !== true) pendingRestartableInit++;
      running++;
    } else if (isPlainObject(state.terminated)) {
      // Terminated sidecars do not count toward the phase.
    } else if (isPlainObject(state.waiting)) {
      if (!isPlainObject(last.terminated)) {
        pendingRestartableInit++;
        waiting++;
      }
    } else {
      pendingRestartableInit++;
      unknown++;
    }
  }
  for (const c of regularContainers(pod)) {
    const view = phaseView(statuses, c.name);
    if (!view) {
      unknown++;
      continue;
    }
    const { state, last } = view;
    if (isPlainObject(state.running)) running++;
    else if (isPlainObject(state.terminated)) {
      stopped++;
      if (state.terminated.exitCode === 0) succeeded++;
    } else if (isPlainObject(state.waiting)) {
      if (isPlainObject(last.terminated)) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInitialization > 0 && policy === 'Never') return 'Failed';
  if (pendingRegularInit > 0 || (pendingRestartableInit > 0 && !podHasInitialized) || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

function containersReadyCondition(pod: KubeObject, statuses: Json[], phase: string): Condition {
  const unknown: string[] = [];
  const unready: string[] = [];
  for (const c of [...initContainers(pod).filter(isSidecar), ...regularContainers(pod)]) {
    const s = statusByName(statuses, c.name);
    if (!s) unknown.push(c.name);
    else if (s.ready !== true) unready.push(c.name);
  }
  if ((phase === 'Succeeded' && unknown.length === 0) || phase === 'Failed') {
    return { type: 'ContainersReady', status: 'False', reason: phase === 'Failed' ? 'PodFailed' : 'PodCompleted' };
  }
  const messages: string[] = [];
  if (unknown.length > 0) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (unready.length > 0) messages.push(`containers with unready status: ${goList(unready)}`);
  if (messages.length > 0) return { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: messages.join(', ') };
  return { type: 'ContainersReady', status: 'True' };
}

function readyCondition(pod: KubeObject, conditions: Json[], containersReady: Condition): Condition {
  if (containersReady.status !== 'True') return { ...containersReady, type: 'Ready' };
  const messages: string[] = [];
  const gates = Array.isArray((pod.spec as Json | undefined)?.readinessGates) ? asObjects((pod.spec as Json).readinessGates) : [];
  for (const gate of gates) {
    const type = typeof gate.conditionType === 'string' ? gate.conditionType : '';
    const c = conditions.find((x) => x.type === type);
    if (!c) messages.push(`corresponding condition of pod readiness gate ${JSON.stringify(type)} does not exist.`);
    else if (c.status !== 'True') messages.push(`the status of pod readiness gate ${JSON.stringify(type)} is not "True", but ${String(c.status)}`);
  }
  if (messages.length > 0) return { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: messages.join(', ') };
  return { type: 'Ready', status: 'True' };
}

function initializedCondition(pod: KubeObject, statuses: Json[], phase: string): Condition {
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of initContainers(pod)) {
    const s = statusByName(statuses, c.name);
    if (!s) {
      unknown.push(c.name);
      continue;
    }
    if (isSidecar(c) ? s.started !== true : s.ready !== true) incomplete.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0) return { type: 'Initialized', status: 'True', reason: 'PodCompleted' };
  if (hasAnyRegularContainerStarted(pod, statuses)) return { type: 'Initialized', status: 'True' };
  const messages: string[] = [];
  if (unknown.length > 0) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (incomplete.length > 0) messages.push(`containers with incomplete status: ${goList(incomplete)}`);
  if (messages.length > 0) return { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: messages.join(', ') };
  return { type: 'Initialized', status: 'True' };
}

/** Conditions as the API shows them, keeping lastTransitionTime while a condition's status stays (the status manager's updateLastTransitionTime). */
function withTransitionTimes(conditions: Condition[], oldConditions: Json[], now: number): Json[] {
  return conditions.map((c) => {
    const old = oldConditions.find((o) => o.type === c.type);
    const lastTransitionTime = old && old.status === c.status && typeof old.lastTransitionTime === 'string' ? old.lastTransitionTime : apiTime(now);
    const out: Json = { type: c.type, status: c.status, lastProbeTime: null, lastTransitionTime };
    if (c.reason) out.reason = c.reason;
    if (c.message) out.message = c.message;
    return out;
  });
}

/** The status the agent reports for a pod: every field the kubelet owns. */
export function generatePodStatus(input: PodStatusInput): Json {
  const { pod, oldStatus, runtimePod, now } = input;
  const apiStatus = podStatusOf(pod);
  const sandbox = runtimePod?.sandbox;
  const inits = initContainers(pod);
  const initStatuses = containerStatuses(input, inits, asObjects(oldStatus.initContainerStatuses), 'init');
  const regularStatuses = containerStatuses(input, regularContainers(pod), asObjects(oldStatus.containerStatuses), 'regular');
  const ephemerals = ephemeralContainers(pod);
  const all = [...regularStatuses, ...initStatuses];
  const initialized = (runtimePod?.containers ?? []).some((c) => regularContainers(pod).some((r) => r.name === c.name)) || hasAnyRegularContainerStarted(pod, regularStatuses);
  let phase = podPhase(pod, all, input.podIsTerminal, initialized);
  if (phase !== 'Succeeded' && phase !== 'Failed') {
    // Terminal phases are final, whoever wrote them.
    if (oldStatus.phase === 'Succeeded' || oldStatus.phase === 'Failed') phase = oldStatus.phase;
    else if (apiStatus.phase === 'Succeeded' || apiStatus.phase === 'Failed') phase = apiStatus.phase;
    // A pod torn down before its containers ran still ends (the status manager's TerminatePod).
    else if (input.podIsTerminal) phase = 'Failed';
  }

  const podIPs: string[] = isHostNetwork(pod) ? input.hostIPs.slice(0, 1) : (sandbox?.ips ?? []);
  const oldPodIPs = asObjects(oldStatus.podIPs)
    .map((p) => p.ip)
    .filter((ip): ip is string => typeof ip === 'string');
  const ips = podIPs.length > 0 ? podIPs : oldPodIPs;

  const apiConditions = asObjects(apiStatus.conditions);
  const oldConditions = asObjects(oldStatus.conditions);
  const containersReady = containersReadyCondition(pod, all, phase);
  const conditions = withTransitionTimes(
    [
      { type: 'PodReadyToStartContainers', status: sandbox?.state === 'ready' && (isHostNetwork(pod) || sandbox.ips.length > 0) ? 'True' : 'False' },
      initializedCondition(pod, all, phase),
      readyCondition(pod, apiConditions, containersReady),
      containersReady,
      { type: 'PodScheduled', status: 'True' },
    ],
    // PodScheduled's transition time is the scheduler's, from the API.
    [...oldConditions, ...apiConditions.filter((c) => !oldConditions.some((o) => o.type === c.type))],
    now,
  );

  const status: Json = { phase, conditions };
  if (input.hostIPs.length > 0) {
    status.hostIP = input.hostIPs[0];
    status.hostIPs = input.hostIPs.map((ip) => ({ ip }));
  }
  if (ips.length > 0) {
    status.podIP = ips[0];
    status.podIPs = ips.map((ip) => ({ ip }));
  }
  status.startTime = typeof oldStatus.startTime === 'string' ? oldStatus.startTime : typeof apiStatus.startTime === 'string' ? apiStatus.startTime : apiTime(now);
  if (inits.length > 0) status.initContainerStatuses = initStatuses;
  status.containerStatuses = regularStatuses;
  if (ephemerals.length > 0) status.ephemeralContainerStatuses = containerStatuses(input, ephemerals, asObjects(oldStatus.ephemeralContainerStatuses), 'ephemeral');
  const qos = apiStatus.qosClass ?? oldStatus.qosClass;
  if (typeof qos === 'string') status.qosClass = qos;
  return status;
}

/** Equal as JSON, with null members counting as absent (the API keeps lastProbeTime: null, a patch cannot send it). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return (a ?? undefined) === (b ?? undefined);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => sameJson(v, bb[i]));
  }
  const ao = a as Json;
  const bo = b as Json;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!sameJson(ao[k] ?? undefined, bo[k] ?? undefined)) return false;
  return true;
}

/** The kubelet-owned part of a status, for comparing what was reported with what would be. */
export function ownedPart(status: Json): Json {
  const out: Json = {};
  for (const k of ['phase', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime', 'initContainerStatuses', 'containerStatuses', 'ephemeralContainerStatuses', 'qosClass']) {
    if (status[k] !== undefined) out[k] = status[k];
  }
  const owned = new Set<string>(kubeletConditionTypes);
  out.conditions = asObjects(status.conditions)
    .filter((c) => owned.has(String(c.type)))
    .sort((x, y) => String(x.type).localeCompare(String(y.type)));
  return out;
}

/**
 * The strategic merge patch that writes a status: conditions merge by type,
 * so others' conditions stay, and a reason or message that no longer applies
 * is removed with null, as the kubelet's computed patch does.
 */
export function statusPatch(uid: string, status: Json): Json {
  if (!Array.isArray(status.conditions)) return { metadata: { uid }, status };
  const conditions = asObjects(status.conditions).map((c) => {
    const out: Json = { ...c, reason: c.reason ?? null, message: c.message ?? null };
    delete out.lastProbeTime;
    return out;
  });
  return { metadata: { uid }, status: { ...status, conditions } };
}
