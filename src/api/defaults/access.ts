// rbac.authorization.k8s.io, scheduling.k8s.io, admissionregistration.k8s.io
// and apiextensions.k8s.io defaults.

import { asObject, asString, ensureObject, objectsOf, type JsonObject } from '../validation/json-values.js';

const rbacGroup = 'rbac.authorization.k8s.io';

/** SetDefaults_RoleBinding / _ClusterRoleBinding / _Subject. */
export function defaultRoleBinding(obj: JsonObject): void {
  const roleRef = asObject(obj['roleRef']);
  if (roleRef && !roleRef['apiGroup']) roleRef['apiGroup'] = rbacGroup;
  for (const subject of objectsOf(obj['subjects'])) {
    if (subject['apiGroup']) continue;
    const kind = asString(subject['kind']);
    // A service account's subject keeps the core group, "": Go's omitempty leaves it out of the JSON.
    if (kind === 'User' || kind === 'Group') subject['apiGroup'] = rbacGroup;
  }
}

export function defaultPriorityClass(obj: JsonObject): void {
  if (!obj['preemptionPolicy']) obj['preemptionPolicy'] = 'PreemptLowerPriority';
}

function defaultServiceReference(clientConfig: JsonObject | undefined): void {
  const service = asObject(clientConfig?.['service']);
  if (service && (service['port'] === undefined || service['port'] === null)) service['port'] = 443;
}

/** admissionregistration.k8s.io/v1 webhook defaults; reinvocationPolicy only for mutating webhooks. */
export function defaultWebhookConfiguration(obj: JsonObject, mutating: boolean): void {
  for (const webhook of objectsOf(obj['webhooks'])) {
    if (!webhook['failurePolicy']) webhook['failurePolicy'] = 'Fail';
    if (!webhook['matchPolicy']) webhook['matchPolicy'] = 'Equivalent';
    if (!asObject(webhook['namespaceSelector'])) webhook['namespaceSelector'] = {};
    if (!asObject(webhook['objectSelector'])) webhook['objectSelector'] = {};
    if (webhook['timeoutSeconds'] === undefined || webhook['timeoutSeconds'] === null) webhook['timeoutSeconds'] = 10;
    if (mutating && !webhook['reinvocationPolicy']) webhook['reinvocationPolicy'] = 'Never';
    for (const rule of objectsOf(webhook['rules'])) if (!rule['scope']) rule['scope'] = '*';
    defaultServiceReference(asObject(webhook['clientConfig']));
  }
}

export function defaultCustomResourceDefinition(obj: JsonObject): void {
  const spec = ensureObject(obj, 'spec');
  const names = ensureObject(spec, 'names');
  const kind = asString(names['kind']);
  if (!names['singular']) names['singular'] = kind.toLowerCase();
  if (!names['listKind'] && kind) names['listKind'] = `${kind}List`;
  if (!asObject(spec['conversion'])) spec['conversion'] = { strategy: 'None' };
  defaultServiceReference(asObject(asObject(asObject(spec['conversion'])?.['webhook'])?.['clientConfig']));
}
