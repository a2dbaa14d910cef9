// Container lifecycle hooks (container.lifecycle.postStart / preStop), as the
// kubelet runs them (pkg/kubelet/lifecycle/handlers.go and
// kuberuntime_container.go: startContainer, killContainer, executePreStopHook).
//
// Handlers: exec (through Runtime.exec; no timeout of its own for postStart),
// httpGet (the probes' request code; any response counts as success, only a
// failed request fails, as in the kubelet), sleep (seconds). tcpSocket is
// deprecated as a lifecycle handler and is ignored.
//
// postStart runs right after the container started; a failure is reported as
// a Warning FailedPostStartHook "PostStartHook failed" event, the container is
// killed (Killing "FailedPostStartHook") and restarted per restartPolicy, its
// waiting reason PostStartHookError with the handler's message (the kubelet
// keeps hook output out of events: it may hold secrets). preStop runs before the stop signal
// and counts against the grace period: the signal comes when the hook ended or
// the grace period ran out, whichever is first, and the container then gets
// what is left, at least 2 s (the kubelet's minimumGracePeriodInSeconds). A
// failed preStop records a Warning FailedPreStopHook "PreStopHook failed"
// (without the output, which may hold secrets) and the stop goes on.
import { isPlainObject, type KubeObject } from '../api/object.js';
import { formatPod, type ContainerSpec } from './pod-spec.js';
import { httpGetAction, type ExecFn } from './probes.js';

export type HookKind = 'postStart' | 'preStop';
type Json = Record<string, unknown>;

/** The kubelet's minimumGracePeriodInSeconds: a container whose preStop used up the grace period still gets this long after the signal. */
export const minimumGracePeriodSeconds = 2;

/** The longest a timer waits (Node caps setTimeout there); for hooks the kubelet gives no timeout of their own. */
const noTimeoutMs = 2 ** 31 - 1;

/** What a hook runs against. */
export interface HookTarget {
  pod: KubeObject;
  container: ContainerSpec;
  containerId: string;
  /** The pod's primary IP (the node's for host-network pods), for httpGet without host. */
  podIP: string | undefined;
}

/** Runs one handler; resolves to undefined on success or the kubelet's failure message. Never rejects. */
export type HookRunner = (kind: HookKind, handler: Json, target: HookTarget, timeoutMs: number) => Promise<string | undefined>;

/** The container's handler of that kind, or undefined when it has none (or only a tcpSocket one, which is ignored). */
export function lifecycleHandlerOf(container: ContainerSpec, kind: HookKind): Json | undefined {
  const lifecycle = container.lifecycle;
  if (!isPlainObject(lifecycle)) return undefined;
  const handler = lifecycle[kind];
  if (!isPlainObject(handler)) return undefined;
  if (!isPlainObject(handler.exec) && !isPlainObject(handler.httpGet) && !isPlainObject(handler.sleep)) return undefined;
  return handler;
}

function goStrings(list: string[]): string {
  return `[${list.join(' ')}]`;
}

function sleepFor(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, Math.min(ms, noTimeoutMs))));
}

/** The real handler runner: exec through the runtime, httpGet from the agent to the pod, sleep here. */
export function realHookRunner(exec: ExecFn | undefined): HookRunner {
  return async (_kind, handler, target, timeoutMs) => {
    const who = `for Container ${JSON.stringify(target.container.name)} in Pod ${JSON.stringify(formatPod(target.pod))}`;
    const bounded = Math.max(1, Math.min(timeoutMs, noTimeoutMs));
    if (isPlainObject(handler.exec)) {
      const command = Array.isArray(handler.exec.command) ? handler.exec.command.map(String) : [];
      if (!exec) return undefined;
      try {
        const r = await exec(target.pod.metadata.uid ?? '', target.containerId, command, bounded);
        if (r.exitCode === 0) return undefined;
        return `Exec lifecycle hook (${goStrings(command)}) ${who} failed - error: command '${command.join(' ')}' exited with ${r.exitCode}: , message: ${JSON.stringify(r.output)}`;
      } catch (e) {
        return `Exec lifecycle hook (${goStrings(command)}) ${who} failed - error: ${(e as Error).message}, message: ""`;
      }
    }
    if (isPlainObject(handler.httpGet)) {
      const r = await httpGetAction(handler.httpGet, target.container, target.podIP, bounded, 'kube-lifecycle/1.33');
      if (!('error' in r)) return undefined;
      const path = typeof handler.httpGet.path === 'string' ? handler.httpGet.path : '';
      return `HTTP lifecycle hook (${path}) ${who} failed - error: ${r.error}`;
    }
    if (isPlainObject(handler.sleep)) {
      const seconds = typeof handler.sleep.seconds === 'number' && handler.sleep.seconds > 0 ? handler.sleep.seconds : 0;
      await sleepFor(Math.min(seconds * 1000, bounded));
      return undefined;
    }
    return undefined;
  };
}

/** For postStart: the handler may take as long as it takes. */
export const postStartTimeoutMs = noTimeoutMs;

export interface PreStopOutcome {
  /** Whole seconds the hook took, as the kubelet counts them (truncated). */
  elapsedSeconds: number;
  /** The failure message, when the hook failed within the grace period. */
  failure?: string;
}

/**
 * The kubelet's executePreStopHook: runs the hook and waits for it at most
 * gracePeriodSeconds (the hook itself is then left to the stop that follows).
 */
export async function runPreStopHook(runner: HookRunner, handler: Json, target: HookTarget, gracePeriodSeconds: number): Promise<PreStopOutcome> {
  const start = Date.now();
  const graceMs = gracePeriodSeconds * 1000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), graceMs);
  });
  const result = await Promise.race([runner('preStop', handler, target, graceMs), timedOut]);
  clearTimeout(timer);
  const elapsedSeconds = Math.floor((Date.now() - start) / 1000);
  return result === 'timeout' || result === undefined ? { elapsedSeconds } : { elapsedSeconds, failure: result };
}

/** The grace period left for the stop signal after a preStop hook took elapsedSeconds (at least the kubelet's minimum). */
export function graceAfterPreStop(gracePeriodSeconds: number, elapsedSeconds: number): number {
  return Math.max(gracePeriodSeconds - elapsedSeconds, minimumGracePeriodSeconds);
}
