// A small Deployment-like slice of Kubernetes' published definitions, written
// as kube-apiserver 1.33 publishes them: value structs carry "default": {},
// required fields are listed, containers have only the strategic-merge-patch
// markers (the built-in form without x-kubernetes-list-type), ports are a list
// map keyed by containerPort and protocol, finalizers a set, args atomic.
import type { Definitions, Schema } from '../../src/api/schema/types.js';
import { typeInfoFor } from '../../src/api/apply/index.js';

const ref = (name: string, extra: Schema = {}): Schema => ({ $ref: `#/definitions/${name}`, ...extra });

export const definitions: Definitions = {
  'io.k8s.api.apps.v1.Deployment': {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', { default: {} }),
      spec: ref('io.k8s.api.apps.v1.DeploymentSpec', { default: {} }),
      status: ref('io.k8s.api.apps.v1.DeploymentStatus', { default: {} }),
    },
    'x-kubernetes-group-version-kind': [{ group: 'apps', version: 'v1', kind: 'Deployment' }],
  },
  'io.k8s.api.core.v1.ConfigMap': {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', { default: {} }),
      data: { type: 'object', additionalProperties: { type: 'string', default: '' } },
      immutable: { type: 'boolean' },
    },
    'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'ConfigMap' }],
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    type: 'object',
    properties: {
      name: { type: 'string' },
      namespace: { type: 'string' },
      uid: { type: 'string' },
      resourceVersion: { type: 'string' },
      generation: { type: 'integer', format: 'int64' },
      creationTimestamp: ref('io.k8s.apimachinery.pkg.apis.meta.v1.Time'),
      labels: { type: 'object', additionalProperties: { type: 'string', default: '' } },
      annotations: { type: 'object', additionalProperties: { type: 'string', default: '' } },
      finalizers: { type: 'array', items: { type: 'string', default: '' }, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
      managedFields: { type: 'array', items: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry', { default: {} }), 'x-kubernetes-list-type': 'atomic' },
    },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry': {
    type: 'object',
    properties: {
      manager: { type: 'string' },
      operation: { type: 'string' },
      apiVersion: { type: 'string' },
      time: ref('io.k8s.apimachinery.pkg.apis.meta.v1.Time'),
      fieldsType: { type: 'string' },
      fieldsV1: ref('io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1'),
      subresource: { type: 'string' },
    },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1': { type: 'object' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector': {
    type: 'object',
    properties: {
      matchLabels: { type: 'object', additionalProperties: { type: 'string', default: '' } },
      matchExpressions: { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'atomic' },
    },
    'x-kubernetes-map-type': 'atomic',
  },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string' },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string' },
  'io.k8s.api.apps.v1.DeploymentSpec': {
    type: 'object',
    required: ['selector', 'template'],
    properties: {
      replicas: { type: 'integer', format: 'int32' },
      selector: ref('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector'),
      template: ref('io.k8s.api.core.v1.PodTemplateSpec', { default: {} }),
      strategy: ref('io.k8s.api.apps.v1.DeploymentStrategy', { default: {}, 'x-kubernetes-patch-strategy': 'retainKeys' }),
      minReadySeconds: { type: 'integer', format: 'int32' },
      revisionHistoryLimit: { type: 'integer', format: 'int32' },
      paused: { type: 'boolean' },
      progressDeadlineSeconds: { type: 'integer', format: 'int32' },
    },
  },
  'io.k8s.api.apps.v1.DeploymentStrategy': {
    type: 'object',
    properties: {
      type: { type: 'string' },
      rollingUpdate: ref('io.k8s.api.apps.v1.RollingUpdateDeployment'),
    },
  },
  'io.k8s.api.apps.v1.RollingUpdateDeployment': {
    type: 'object',
    properties: {
      maxUnavailable: ref('io.k8s.apimachinery.pkg.util.intstr.IntOrString'),
      maxSurge: ref('io.k8s.apimachinery.pkg.util.intstr.IntOrString'),
    },
  },
  'io.k8s.api.apps.v1.DeploymentStatus': {
    type: 'object',
    properties: {
      replicas: { type: 'integer', format: 'int32' },
      readyReplicas: { type: 'integer', format: 'int32' },
      observedGeneration: { type: 'integer', format: 'int64' },
    },
  },
  'io.k8s.api.core.v1.PodTemplateSpec': {
    type: 'object',
    properties: {
      metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', { default: {} }),
      spec: ref('io.k8s.api.core.v1.PodSpec', { default: {} }),
    },
  },
  'io.k8s.api.core.v1.PodSpec': {
    type: 'object',
    required: ['containers'],
    properties: {
      containers: {
        type: 'array',
        items: ref('io.k8s.api.core.v1.Container', { default: {} }),
        'x-kubernetes-patch-merge-key': 'name',
        'x-kubernetes-patch-strategy': 'merge',
      },
      restartPolicy: { type: 'string' },
      dnsPolicy: { type: 'string' },
      schedulerName: { type: 'string' },
      terminationGracePeriodSeconds: { type: 'integer', format: 'int64' },
      securityContext: ref('io.k8s.api.core.v1.PodSecurityContext'),
      nodeSelector: { type: 'object', additionalProperties: { type: 'string', default: '' }, 'x-kubernetes-map-type': 'atomic' },
    },
  },
  'io.k8s.api.core.v1.PodSecurityContext': {
    type: 'object',
    properties: { runAsUser: { type: 'integer', format: 'int64' }, runAsNonRoot: { type: 'boolean' } },
  },
  'io.k8s.api.core.v1.Container': {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', default: '' },
      image: { type: 'string' },
      imagePullPolicy: { type: 'string' },
      args: { type: 'array', items: { type: 'string', default: '' }, 'x-kubernetes-list-type': 'atomic' },
      ports: {
        type: 'array',
        items: ref('io.k8s.api.core.v1.ContainerPort', { default: {} }),
        'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-patch-merge-key': 'containerPort',
        'x-kubernetes-patch-strategy': 'merge',
      },
      env: {
        type: 'array',
        items: ref('io.k8s.api.core.v1.EnvVar', { default: {} }),
        'x-kubernetes-list-map-keys': ['name'],
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-patch-merge-key': 'name',
        'x-kubernetes-patch-strategy': 'merge',
      },
      resources: ref('io.k8s.api.core.v1.ResourceRequirements', { default: {} }),
      terminationMessagePath: { type: 'string' },
      terminationMessagePolicy: { type: 'string' },
    },
  },
  'io.k8s.api.core.v1.ContainerPort': {
    type: 'object',
    required: ['containerPort'],
    properties: {
      name: { type: 'string' },
      containerPort: { type: 'integer', format: 'int32', default: 0 },
      protocol: { type: 'string', default: 'TCP' },
      hostPort: { type: 'integer', format: 'int32' },
    },
  },
  'io.k8s.api.core.v1.EnvVar': {
    type: 'object',
    required: ['name'],
    properties: { name: { type: 'string', default: '' }, value: { type: 'string' } },
  },
  'io.k8s.api.core.v1.ResourceRequirements': {
    type: 'object',
    properties: {
      limits: { type: 'object', additionalProperties: ref('io.k8s.apimachinery.pkg.api.resource.Quantity') },
      requests: { type: 'object', additionalProperties: ref('io.k8s.apimachinery.pkg.api.resource.Quantity') },
    },
  },
};

export const deploymentType = typeInfoFor(definitions, 'io.k8s.api.apps.v1.Deployment');
export const configMapType = typeInfoFor(definitions, 'io.k8s.api.core.v1.ConfigMap');
