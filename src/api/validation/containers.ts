// Container validation from pkg/apis/core/validation: names, images, ports,
// env, mounts, resources, probes and lifecycle hooks, for regular and init
// containers.

import type { FieldError } from '../errors.js';
import { child, duplicate, forbidden, index, invalid, isNegativeErrorMsg, notFound, notSupported, required } from './field-errors.js';
import { inclusiveRangeError, isDNS1123Label, isHTTPHeaderName, isValidPortName, isValidPortNum } from './identifiers.js';
import { asArray, asNumber, asObject, asString, objectsOf, type JsonObject } from './json-values.js';
import { validateEnv, validateEnvFrom } from './env.js';
import { validateResourceRequirements } from './resources.js';

export const supportedPortProtocols = ['SCTP', 'TCP', 'UDP'] as const;
const MAX_INT32 = 2147483647;

export function validateDNS1123Label(value: string, path: string): FieldError[] {
  return isDNS1123Label(value).map((msg) => invalid(path, value, msg));
}

function validateNonnegative(value: unknown, path: string): FieldError[] {
  const n = asNumber(value);
  return n !== undefined && n < 0 ? [invalid(path, n, isNegativeErrorMsg)] : [];
}

/** ValidatePortNumOrName: an int is a port number, a string an IANA_SVC_NAME. */
export function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((msg) => invalid(path, port, msg));
  if (typeof port === 'string') return isValidPortName(port).map((msg) => invalid(path, port, msg));
  return isValidPortNum(0).map((msg) => invalid(path, 0, msg));
}

function validateContainerPorts(ports: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  objectsOf(ports).forEach((port, i) => {
    const p = index(path, i);
    const name = asString(port['name']);
    if (name) {
      const msgs = isValidPortName(name);
      if (msgs.length > 0) for (const msg of msgs) errs.push(invalid(child(p, 'name'), name, msg));
      else if (names.has(name)) errs.push(duplicate(child(p, 'name'), name));
      else names.add(name);
    }
    const containerPort = asNumber(port['containerPort']) ?? 0;
    if (containerPort === 0) errs.push(required(child(p, 'containerPort')));
    else for (const msg of isValidPortNum(containerPort)) errs.push(invalid(child(p, 'containerPort'), containerPort, msg));
    const hostPort = asNumber(port['hostPort']) ?? 0;
    if (hostPort !== 0) for (const msg of isValidPortNum(hostPort)) errs.push(invalid(child(p, 'hostPort'), hostPort, msg));
    const protocol = asString(port['protocol']);
    if (!protocol) errs.push(required(child(p, 'protocol')));
    else if (!(supportedPortProtocols as readonly string[]).includes(protocol)) errs.push(notSupported(child(p, 'protocol'), protocol, supportedPortProtocols));
  });
  return errs;
}

/** AccumulateUniqueHostPorts: the same hostIP/protocol/hostPort may be claimed once. */
export function checkHostPortConflicts(containers: readonly JsonObject[], path: string, seen = new Set<string>()): FieldError[] {
  const errs: FieldError[] = [];
  containers.forEach((c, ci) => {
    objectsOf(c['ports']).forEach((port, pi) => {
      const hostPort = asNumber(port['hostPort']) ?? 0;
      if (hostPort === 0) return;
      const id = `${asString(port['hostIP'])}/${asString(port['protocol'])}/${hostPort}`;
      if (seen.has(id)) errs.push(duplicate(child(index(child(index(path, ci), 'ports'), pi), 'hostPort'), id));
      else seen.add(id);
    });
  });
  return errs;
}

/** validateLocalDescendingPath: relative, without "..". */
export function validateLocalDescendingPath(target: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith('/')) errs.push(invalid(path, target, 'must be a relative path'));
  if (target.split(/[\\/]/).includes('..')) errs.push(invalid(path, target, "must not contain '..'"));
  return errs;
}

function validateVolumeMounts(mounts: unknown, volumes: ReadonlySet<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  objectsOf(mounts).forEach((mount, i) => {
    const p = index(path, i);
    const name = asString(mount['name']);
    if (!name) errs.push(required(child(p, 'name')));
    if (!volumes.has(name)) errs.push(notFound(child(p, 'name'), name));
    const mountPath = asString(mount['mountPath']);
    if (!mountPath) errs.push(required(child(p, 'mountPath')));
    if (mountPoints.has(mountPath)) errs.push(invalid(child(p, 'mountPath'), mountPath, 'must be unique'));
    mountPoints.add(mountPath);
    // Kubernetes reports subPath problems under the list path, not the item.
    const subPath = asString(mount['subPath']);
    if (subPath) errs.push(...validateLocalDescendingPath(subPath, child(path, 'subPath')));
    const subPathExpr = asString(mount['subPathExpr']);
    if (subPathExpr) {
      if (subPath) errs.push(invalid(child(p, 'subPathExpr'), subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(subPathExpr, child(path, 'subPathExpr')));
    }
    const propagation = mount['mountPropagation'];
    if (propagation !== undefined && propagation !== null) {
      const valid = ['Bidirectional', 'HostToContainer', 'None'];
      if (!valid.includes(asString(propagation))) errs.push(notSupported(child(path, 'mountPropagation'), propagation, valid));
    }
  });
  return errs;
}

/** validateHandler: exactly one of exec, httpGet, tcpSocket, grpc (probes) or sleep (hooks). */
function validateHandler(handler: JsonObject, path: string, kinds: readonly string[]): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const kind of kinds) {
    const action = asObject(handler[kind]);
    if (!action) continue;
    const p = child(path, kind);
    if (count > 0) {
      errs.push(forbidden(p, 'may not specify more than 1 handler type'));
      continue;
    }
    count++;
    switch (kind) {
      case 'exec':
        if (asArray(action['command']).length === 0) errs.push(required(child(p, 'command')));
        break;
      case 'httpGet': {
        if (!asString(action['path'])) errs.push(required(child(p, 'path')));
        errs.push(...validatePortNumOrName(action['port'], child(p, 'port')));
        const scheme = asString(action['scheme']);
        if (scheme !== 'HTTP' && scheme !== 'HTTPS') errs.push(notSupported(child(p, 'scheme'), scheme, ['HTTP', 'HTTPS']));
        objectsOf(action['httpHeaders']).forEach((header, i) => {
          const name = asString(header['name']);
          for (const msg of isHTTPHeaderName(name)) errs.push(invalid(child(index(child(p, 'httpHeaders'), i), 'name'), name, msg));
        });
        break;
      }
      case 'tcpSocket':
        errs.push(...validatePortNumOrName(action['port'], child(p, 'port')));
        break;
      case 'grpc': {
        const port = asNumber(action['port']) ?? 0;
        for (const msg of isValidPortNum(port)) errs.push(invalid(child(p, 'port'), port, msg));
        break;
      }
      case 'sleep': {
        const seconds = asNumber(action['seconds']) ?? 0;
        if (seconds < 0) errs.push(invalid(child(p, 'seconds'), seconds, 'must be non-negative'));
        break;
      }
    }
  }
  if (count === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

const probeHandlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'];
const lifecycleHandlers = ['exec', 'httpGet', 'tcpSocket', 'sleep'];

function validateProbe(probe: JsonObject, path: string): FieldError[] {
  const errs = validateHandler(probe, path, probeHandlers);
  for (const field of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    errs.push(...validateNonnegative(probe[field], child(path, field)));
  }
  const grace = asNumber(probe['terminationGracePeriodSeconds']);
  if (grace !== undefined && grace <= 0) errs.push(invalid(child(path, 'terminationGracePeriodSeconds'), grace, 'must be greater than 0'));
  return errs;
}

function validateProbes(c: JsonObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const kind of ['livenessProbe', 'startupProbe']) {
    const probe = asObject(c[kind]);
    if (!probe) continue;
    errs.push(...validateProbe(probe, child(path, kind)));
    const threshold = asNumber(probe['successThreshold']) ?? 0;
    if (threshold !== 1) errs.push(invalid(child(path, kind, 'successThreshold'), threshold, 'must be 1'));
  }
  const readiness = asObject(c['readinessProbe']);
  if (readiness) {
    errs.push(...validateProbe(readiness, child(path, 'readinessProbe')));
    if (readiness['terminationGracePeriodSeconds'] !== undefined && readiness['terminationGracePeriodSeconds'] !== null) {
      errs.push(invalid(child(path, 'readinessProbe', 'terminationGracePeriodSeconds'), readiness['terminationGracePeriodSeconds'], 'must not be set for readinessProbes'));
    }
  }
  return errs;
}

function validateLifecycle(lifecycle: JsonObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const hook of ['postStart', 'preStop']) {
    const handler = asObject(lifecycle[hook]);
    if (handler) errs.push(...validateHandler(handler, child(path, hook), lifecycleHandlers));
  }
  return errs;
}

function validateSecurityContext(sc: JsonObject | undefined, path: string): FieldError[] {
  if (!sc) return [];
  const errs: FieldError[] = [];
  for (const field of ['runAsUser', 'runAsGroup']) {
    const id = asNumber(sc[field]);
    if (id !== undefined && (id < 0 || id > MAX_INT32)) errs.push(invalid(child(path, field), id, inclusiveRangeError(0, MAX_INT32)));
  }
  if (sc['privileged'] === true && sc['allowPrivilegeEscalation'] === false) {
    errs.push(invalid(path, sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
  }
  return errs;
}

const pullPolicies = ['Always', 'IfNotPresent', 'Never'];
const terminationMessagePolicies = ['File', 'FallbackToLogsOnError'];

/** validateContainerCommon: what every kind of container must satisfy. */
function validateContainerCommon(c: JsonObject, volumes: ReadonlySet<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = asString(c['name']);
  if (!name) errs.push(required(child(path, 'name')));
  else errs.push(...validateDNS1123Label(name, child(path, 'name')));
  if (!asString(c['image'])) errs.push(required(child(path, 'image')));
  const tmp = asString(c['terminationMessagePolicy']);
  if (!tmp) errs.push(required(child(path, 'terminationMessagePolicy')));
  else if (!terminationMessagePolicies.includes(tmp)) errs.push(notSupported(child(path, 'terminationMessagePolicy'), tmp, terminationMessagePolicies));
  errs.push(...validateContainerPorts(c['ports'], child(path, 'ports')));
  errs.push(...validateEnv(c['env'], child(path, 'env')));
  errs.push(...validateEnvFrom(c['envFrom'], child(path, 'envFrom')));
  errs.push(...validateVolumeMounts(c['volumeMounts'], volumes, child(path, 'volumeMounts')));
  const pullPolicy = asString(c['imagePullPolicy']);
  if (!pullPolicy) errs.push(required(child(path, 'imagePullPolicy')));
  else if (!pullPolicies.includes(pullPolicy)) errs.push(notSupported(child(path, 'imagePullPolicy'), pullPolicy, pullPolicies));
  errs.push(...validateResourceRequirements(asObject(c['resources']), child(path, 'resources')));
  errs.push(...validateSecurityContext(asObject(c['securityContext']), child(path, 'securityContext')));
  return errs;
}

export function validateContainers(containers: unknown, volumes: ReadonlySet<string>, path: string): FieldError[] {
  const list = objectsOf(containers);
  if (list.length === 0) return [required(path)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list.forEach((c, i) => {
    const p = index(path, i);
    errs.push(...validateContainerCommon(c, volumes, p));
    const name = asString(c['name']);
    if (names.has(name)) errs.push(duplicate(child(p, 'name'), name));
    else names.add(name);
    const lifecycle = asObject(c['lifecycle']);
    if (lifecycle) errs.push(...validateLifecycle(lifecycle, child(p, 'lifecycle')));
    errs.push(...validateProbes(c, p));
    if (c['restartPolicy'] !== undefined && c['restartPolicy'] !== null) errs.push(forbidden(child(p, 'restartPolicy'), 'may not be set for non-init containers'));
  });
  errs.push(...checkHostPortConflicts(list, path));
  return errs;
}

export function validateInitContainers(initContainers: unknown, containers: unknown, volumes: ReadonlySet<string>, path: string): FieldError[] {
  if (objectsOf(initContainers).length === 0) return [];
  const errs: FieldError[] = [];
  const names = new Set(objectsOf(containers).map((c) => asString(c['name'])));
  objectsOf(initContainers).forEach((c, i) => {
    const p = index(path, i);
    errs.push(...validateContainerCommon(c, volumes, p));
    let restartAlways = false;
    const restartPolicy = c['restartPolicy'];
    if (restartPolicy !== undefined && restartPolicy !== null) {
      if (restartPolicy !== 'Always') errs.push(notSupported(child(p, 'restartPolicy'), restartPolicy, ['Always']));
      restartAlways = restartPolicy === 'Always';
    }
    const name = asString(c['name']);
    if (names.has(name)) errs.push(duplicate(child(p, 'name'), name));
    else if (name) names.add(name);
    errs.push(...checkHostPortConflicts([c], path));
    if (restartAlways) {
      const lifecycle = asObject(c['lifecycle']);
      if (lifecycle) errs.push(...validateLifecycle(lifecycle, child(p, 'lifecycle')));
      errs.push(...validateProbes(c, p));
    } else {
      const notForInit = 'may not be set for init containers without restartPolicy=Always';
      if (c['lifecycle']) errs.push(forbidden(child(p, 'lifecycle'), notForInit));
      if (c['livenessProbe']) errs.push(forbidden(child(p, 'livenessProbe'), notForInit));
      if (c['readinessProbe']) errs.push(forbidden(child(p, 'readinessProbe'), 'may not be set for init containers'));
      if (c['startupProbe']) errs.push(forbidden(child(p, 'startupProbe'), notForInit));
    }
  });
  return errs;
}

/** What only a pod's container (not a template's) must satisfy: an image without surrounding whitespace. */
function validateContainerOnlyForPod(c: JsonObject, path: string): FieldError[] {
  const image = asString(c['image']);
  return image !== image.trim() ? [invalid(child(path, 'image'), image, 'must not have leading or trailing whitespace')] : [];
}

/** Checks only a pod (not a template) gets: images without surrounding whitespace. */
export function validateContainersOnlyForPod(containers: unknown, path: string): FieldError[] {
  return objectsOf(containers).flatMap((c, i) => validateContainerOnlyForPod(c, index(path, i)));
}

/**
 * EphemeralContainerCommon's fields that an ephemeral container may not set,
 * in the struct's order (Kubernetes' allowedEphemeralContainerFields lists
 * them as false): debugging containers take no part in serving the pod.
 */
const notForEphemeral = ['ports', 'resources', 'resizePolicy', 'restartPolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'];

/** Whether a field holds Go's zero value for its type: absent or null; resources (a struct) also when it has nothing set. */
function goZero(field: string, value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (field !== 'resources') return false;
  const r = asObject(value);
  return r !== undefined && Object.values(r).every((v) => v === undefined || v === null);
}

/**
 * validateEphemeralContainers: what every container must satisfy, names
 * unique across all the pod's containers, a target that is one of its
 * regular or init containers, and none of the fields that serve the pod.
 */
export function validateEphemeralContainers(ephemeralContainers: unknown, containers: unknown, initContainers: unknown, volumes: ReadonlySet<string>, path: string): FieldError[] {
  const list = objectsOf(ephemeralContainers);
  if (list.length === 0) return [];
  const errs: FieldError[] = [];
  const others = new Set([...objectsOf(containers), ...objectsOf(initContainers)].map((c) => asString(c['name'])));
  const names = new Set(others);
  list.forEach((c, i) => {
    const p = index(path, i);
    errs.push(...validateContainerCommon(c, volumes, p));
    errs.push(...validateContainerOnlyForPod(c, p));
    const name = asString(c['name']);
    if (names.has(name)) errs.push(duplicate(child(p, 'name'), name));
    else names.add(name);
    const target = asString(c['targetContainerName']);
    if (target && !others.has(target)) errs.push(notFound(child(p, 'targetContainerName'), target));
    for (const field of notForEphemeral) if (!goZero(field, c[field])) errs.push(forbidden(child(p, field), 'cannot be set for an Ephemeral Container'));
    objectsOf(c['volumeMounts']).forEach((m, mi) => {
      for (const field of ['subPath', 'subPathExpr']) if (asString(m[field])) errs.push(forbidden(child(index(child(p, 'volumeMounts'), mi), field), 'cannot be set for an Ephemeral Container'));
    });
  });
  return errs;
}
