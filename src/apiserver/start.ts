// Brings up the API server on a data dir: storage, certificates, kubeconfig, HTTPS.
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../storage/backend.js';
import { ensureClusterPki, type ClusterPki } from './pki.js';
import { renderKubeconfig } from './kubeconfig.js';
import { listenHttps } from './listen.js';
import { TlsFront } from './tls-front.js';
import { ApiServer } from './server.js';
import { namiSemantics } from './semantics-impl.js';
import { createWritePipeline, systemPriorityClasses, type OptionalAdmissionPlugin } from './write-pipeline.js';
import type { KubeObject } from '../api/object.js';
import { ConflictError, NotFoundError } from '../api/errors.js';
import { firstServiceIP } from './registry/service-allocation.js';
import type { User } from './authn/index.js';

export interface StartOptions {
  dataDir: string;
  host: string;
  port: number;
  backend: Backend;
  /** Bearer tokens accepted besides client certificates (--token-auth-file), token -> user. */
  tokens?: Map<string, User>;
  /** Admission plugins switched off (--disable-admission-plugins). */
  disableAdmissionPlugins?: readonly OptionalAdmissionPlugin[];
  log?: (line: string) => void;
}

export interface RunningApiServer {
  api: ApiServer;
  server: TlsFront;
  url: string;
  kubeconfigPath: string;
  /** The key service account tokens are signed with (PEM), for the controller manager's legacy token Secrets. */
  serviceAccountKeyPem: string;
  /** The shutdown has begun: /readyz fails its shutdown check from now on, while requests are still served. */
  beginShutdown(): void;
  close(): Promise<void>;
}

export async function startApiServer(opts: StartOptions): Promise<RunningApiServer> {
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const ipAddresses = ['127.0.0.1', '::1'];
  if (opts.host !== '0.0.0.0' && opts.host !== 'localhost' && /^[0-9.]+$/.test(opts.host) && !ipAddresses.includes(opts.host)) ipAddresses.push(opts.host);
  // The listener's thread loads while the certificates are made.
  const front = new TlsFront();
  let pki: ClusterPki;
  try {
    pki = ensureClusterPki(opts.dataDir, { dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'], ipAddresses });
  } catch (err) {
    await front.terminate();
    throw err;
  }
  const pipeline = createWritePipeline({
    async get(group, plural, namespace, name) {
      return (await api.storeForResource(group, plural)?.getCached(namespace, name))?.object;
    },
    async list(group, plural) {
      return (await api.storeForResource(group, plural)?.cachedObjects()) ?? [];
    },
    listIn(group, plural, namespace) {
      return api.storeForResource(group, plural)?.cachedIn(namespace) ?? [];
    },
    async chargeQuota(quota, used) {
      const quotas = api.storeForResource('', 'resourcequotas');
      if (!quotas) return true;
      try {
        await quotas.update(
          quota.metadata.namespace,
          quota.metadata.name!,
          (current) => {
            if (!current) throw new NotFoundError(quotas.ref(quota.metadata.name));
            // Pinned to the quota as read: a quota charged by another write meanwhile is read and checked again.
            current.metadata.resourceVersion = quota.metadata.resourceVersion;
            current.status = { ...((current.status ?? {}) as object), used };
            return current;
          },
          { subresource: 'status', fieldManager: 'nami-apiserver' },
        );
        return true;
      } catch (err) {
        if (err instanceof ConflictError) return false;
        throw err;
      }
    },
  }, opts.disableAdmissionPlugins);
  const api: ApiServer = new ApiServer({ backend: opts.backend, semantics: namiSemantics, pipeline, advertiseAddress: `${opts.host}:${opts.port}`, ...(opts.tokens ? { tokens: opts.tokens } : {}), serviceAccountKeyPem: pki.serviceAccountKeyPem, kubeletClient: { certPem: pki.admin.certPem, keyPem: pki.admin.keyPem } });
  const cacheFill = api.start();
  const port = await listenHttps(api, pki, { host: opts.host, port: opts.port }, front).catch(async (err: unknown) => {
    api.stop();
    await front.terminate();
    throw err;
  });
  const hostForUrl = opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `https://${hostForUrl}:${port}`;
  const kubeconfigPath = join(opts.dataDir, 'admin.kubeconfig');
  const kubeconfig = renderKubeconfig({ server: url, caPem: pki.ca.certPem, user: 'nami-admin', clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem });
  writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });
  await cacheFill;
  await ensureDefaultObjects(api, port);
  return {
    api,
    server: front,
    url,
    kubeconfigPath,
    serviceAccountKeyPem: pki.serviceAccountKeyPem,
    beginShutdown: () => api.beginShutdown(),
    async close() {
      // As kube-apiserver's graceful termination: no new connections, the requests being served answered, then the rest closed.
      front.stopAccepting();
      await api.drain();
      api.stop();
      await front.stop();
    },
  };
}

/**
 * default, kube-system, kube-public and kube-node-lease exist in every
 * cluster, each with its default ServiceAccount (which the service account
 * controller would make moments later: pods created as soon as the server is
 * ready need it), the system PriorityClasses, and the `kubernetes` Service in
 * default.
 */
async function ensureDefaultObjects(api: ApiServer, port: number): Promise<void> {
  const fieldManager = { fieldManager: 'nami-apiserver' };
  // Made unless found, all at once (their writes share commits), each namespace before what goes in it.
  const ensure = async (found: Promise<unknown>, make: () => Promise<unknown>) => {
    if (!(await found)) await make().catch(() => undefined);
  };
  const namespaces = api.storeFor('', 'v1', 'namespaces')!;
  const serviceAccounts = api.storeFor('', 'v1', 'serviceaccounts')!;
  const services = api.storeFor('', 'v1', 'services')!;
  const priorityClasses = api.storeFor('scheduling.k8s.io', 'v1', 'priorityclasses')!;
  const kubernetes = {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: firstServiceIP(), ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }], sessionAffinity: 'None' },
  };
  const inNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'].map(async (name) => {
    await ensure(namespaces.getCached(undefined, name), () => namespaces.create(undefined, { metadata: { name } }, fieldManager));
    await Promise.all([
      ensure(serviceAccounts.getCached(name, 'default'), () => serviceAccounts.create(name, { metadata: { name: 'default' } }, fieldManager)),
      name === 'default' ? ensure(services.getCached('default', 'kubernetes'), () => services.create('default', kubernetes, fieldManager)) : undefined,
    ]);
  });
  const classes = Object.entries(systemPriorityClasses).map(([name, value]) => {
    const description = name === 'system-node-critical' ? 'Used for system critical pods that must not be moved from their current node.' : 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.';
    return ensure(priorityClasses.getCached(undefined, name), () => priorityClasses.create(undefined, { metadata: { name }, value, description, preemptionPolicy: 'PreemptLowerPriority' } as KubeObject, fieldManager));
  });
  await Promise.all([...inNamespaces, ...classes]);
}

export function dataDirHasState(dataDir: string): boolean {
  return existsSync(join(dataDir, 'pki', 'ca.crt'));
}
