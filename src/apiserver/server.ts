// The API server: authentication, routing to discovery, health, OpenAPI and
// the generic resource handlers. The HTTP listener is in listen.ts; this is
// the request handler so it can be driven in-process too.
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { NotFoundError } from '../api/errors.js';
import { builtinResources, componentStatusResource, reviewResources, servedVersions, type ResourceInfo } from '../api/resources.js';
import type { Backend } from '../storage/backend.js';
import { aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, rootPaths } from './discovery.js';
import { handleResource } from './handlers/resource.js';
import { handleReview } from './handlers/reviews.js';
import { handleComponentStatuses } from './handlers/component-statuses.js';
import type { ComponentSources } from './component-statuses.js';
import { healthChecks, serveHealth, type HealthCheck, type HealthPath } from './health.js';
import type { KubeletClientConfig } from './handlers/pod-log.js';
import { connectSubresources, proxyPodConnect } from './handlers/pod-connect.js';
import { VersionView } from './handlers/versions.js';
import type { Semantics } from './handlers/semantics.js';
import { parseRequestInfo, queryFlag, type RequestInfo } from './http/request-info.js';
import { sendError, sendJson } from './http/respond.js';
import { strategyFor } from './registry/kinds.js';
import { GenericStore, type WritePipeline } from './registry/store.js';
import type { Strategy } from './registry/strategy.js';
import { CustomResourceRegistry } from './custom-resources.js';
import { OpenAPIService } from './openapi-service.js';
import { kubernetesVersion } from './version.js';
import { legacyTokenLastUsedLabel } from '../api/serviceaccount/legacy.js';
import { authenticateRequest, ServiceAccountTokens, signingKeyFromPem, type Authenticators, type User } from './authn/index.js';

export { kubernetesVersion } from './version.js';

export type { User } from './authn/index.js';

/** How a resource without a store answers a request (the request's resource info, query and user). */
type UnstoredHandler = (req: IncomingMessage, res: ServerResponse, info: RequestInfo, query: URLSearchParams, user: User) => Promise<void>;

export interface ApiServerOptions {
  backend: Backend;
  semantics: Semantics;
  pipeline?: WritePipeline;
  /** host:port clients use, for /api's serverAddressByClientCIDRs. */
  advertiseAddress: string;
  /** Bearer tokens accepted besides client certificates (--token-auth-file), token -> user. */
  tokens?: Map<string, User>;
  /** Lets requests without credentials through as this user (tests of the handler only). */
  anonymousAs?: User;
  /** The key that signs service account tokens (PKCS#8 PEM); without it none are issued or accepted. */
  serviceAccountKeyPem?: string;
  /** The client certificate the API server presents to node agents (pods/log); pods/log answers 503 without it. */
  kubeletClient?: KubeletClientConfig;
  /** Extra GET endpoints (OpenAPI documents ...), path -> handler. */
  extraRoutes?: Map<string, (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void | Promise<void>>;
}

const aggregatedTypes = [
  { version: 'v2', type: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' },
  { version: 'v2beta1', type: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList' },
];

/** Which aggregated discovery version the Accept header asks for first, if any. */
function wantsAggregated(accept: string | undefined): { version: string; type: string } | undefined {
  if (!accept) return undefined;
  for (const clause of accept.split(',')) {
    const c = clause.replace(/\s+/g, '');
    if (!c.includes('as=APIGroupDiscoveryList')) {
      if (c.startsWith('application/json') || c.startsWith('*/*')) return undefined;
      continue;
    }
    for (const t of aggregatedTypes) if (c.includes(`v=${t.version};`) || c.endsWith(`v=${t.version}`)) return t;
  }
  return undefined;
}

/** A request target whose path WHATWG URL parsing would leave as it is: no dot segments, nothing it would encode. */
const plainTarget = /^\/(?!\/)[A-Za-z0-9\-._~%!$&'()*+,;=:@/]*(\?[^#\s"<>`{}\\]*)?$/;
const dotSegment = /(^|\/)(\.|%2e)(\.|%2e)?(\/|$)/i;

/** The path (without trailing slashes) and query of a request target, as new URL() would give them. */
function parseTarget(target: string): { path: string; query: URLSearchParams } {
  const q = target.indexOf('?');
  const pathname = q < 0 ? target : target.slice(0, q);
  if (plainTarget.test(target) && !dotSegment.test(pathname)) {
    return { path: pathname.endsWith('/') ? pathname.replace(/\/+$/, '') || '/' : pathname, query: new URLSearchParams(q < 0 ? '' : target.slice(q + 1)) };
  }
  const url = new URL(target, 'https://nami.invalid');
  return { path: url.pathname.replace(/\/+$/, '') || '/', query: url.searchParams };
}

export class ApiServer {
  private readonly stores = new Map<string, GenericStore>();
  /** The resource each group/version/plural names (events.k8s.io Events are kept in the core Event store). */
  private readonly infos = new Map<string, ResourceInfo>();
  private readonly resources: ResourceInfo[] = [];
  /** The store of each group and plural, for readers that name no version. */
  private readonly byResource = new Map<string, GenericStore>();
  private ready = false;
  /** beginShutdown was called: readyz's shutdown check fails. */
  private shuttingDown = false;
  private readonly openapi = new OpenAPIService(() => this.resources);
  /** Connections handed over by the 'upgrade' event, still open. */
  private readonly upgraded = new Set<Duplex>();
  /** Requests being served, bar the long-running ones (watches, followed logs): what a shutdown waits for. */
  private readonly inFlight = new Set<ServerResponse>();
  /** Called when inFlight empties while a shutdown waits. */
  private onDrained: (() => void) | undefined;

  /** Cluster-scoped resources answered without a store (the reviews, componentstatuses), by group/version/plural. */
  private readonly unstored = new Map<string, UnstoredHandler>();

  /** Who may send requests: client certificates, the token file's tokens, service account tokens. */
  private readonly authenticators: Authenticators;
  /** What ComponentStatus reads: the store, and the scheduler's and controller manager's Leases. */
  private readonly componentSources: ComponentSources;
  /** The checks of /healthz, /livez and /readyz. */
  /** Serves the custom resources of the stored CRDs (set once the server starts). */
  private customResources: CustomResourceRegistry | undefined;
  private readonly healthChecks: Record<HealthPath, HealthCheck[]>;
  /** Issues and checks service account tokens (serviceaccounts/token, TokenReview). */
  readonly serviceAccountTokens: ServiceAccountTokens | undefined;

  constructor(private readonly opts: ApiServerOptions) {
    if (opts.serviceAccountKeyPem) {
      this.serviceAccountTokens = new ServiceAccountTokens(signingKeyFromPem(opts.serviceAccountKeyPem), {
        get: async (resource, namespace, name) => (await this.storeForResource('', resource)?.getCached(namespace, name))?.object,
        markLegacyTokenUsed: async (namespace, name, uid, day) => {
          await this.storeForResource('', 'secrets')?.update(
            namespace,
            name,
            (current) => {
              if (!current || current.metadata.uid !== uid) throw new Error('not the token Secret any more');
              return { ...current, metadata: { ...current.metadata, labels: { ...(current.metadata.labels ?? {}), [legacyTokenLastUsedLabel]: day } } };
            },
            { fieldManager: 'nami-apiserver', sharesCurrent: true },
          );
        },
      });
    }
    this.authenticators = { ...(opts.tokens ? { tokens: opts.tokens } : {}), ...(opts.anonymousAs ? { anonymousAs: opts.anonymousAs } : {}), ...(this.serviceAccountTokens ? { serviceAccounts: this.serviceAccountTokens } : {}) };
    for (const info of builtinResources) this.register(info);
    for (const info of reviewResources) {
      this.serveUnstored(info, (req, res, request, query, user) =>
        handleReview({ req, res, info: request, query, semantics: this.opts.semantics, versions: { info, version: request.version }, user, authenticators: this.authenticators }),
      );
    }
    this.serveUnstored(componentStatusResource, (req, res, request, query) => handleComponentStatuses({ req, res, info: request, query, semantics: this.opts.semantics, sources: this.componentSources }));
    this.healthChecks = healthChecks({ backend: opts.backend, synced: () => this.ready, shuttingDown: () => this.shuttingDown });
    this.componentSources = {
      backend: opts.backend,
      lease: async (name) => (await this.storeFor('coordination.k8s.io', 'v1', 'leases')?.getCached('kube-system', name))?.object,
    };
  }

  /** Serves a resource that has no store, by `handle`, at each of its versions. */
  private serveUnstored(info: ResourceInfo, handle: UnstoredHandler): void {
    for (const v of info.versions) this.unstored.set(this.storeKey(info.group, v, info.plural), handle);
    this.resources.push(info);
  }

  private storeKey(group: string, version: string, plural: string): string {
    return `${group}/${version}/${plural}`;
  }

  register(info: ResourceInfo, strategy: Strategy = strategyFor(info)): GenericStore {
    const shared = info.storedWith && this.storeFor(info.storedWith.group, info.storedWith.version, info.storedWith.plural);
    const store = shared || new GenericStore(info, this.opts.backend, strategy, this.opts.pipeline);
    for (const v of servedVersions(info)) {
      this.stores.set(this.storeKey(info.group, v, info.plural), store);
      this.infos.set(this.storeKey(info.group, v, info.plural), info);
    }
    this.resources.push(info);
    const resource = `${info.group}/${info.plural}`;
    if (!this.byResource.has(resource)) this.byResource.set(resource, store);
    this.openapi.invalidate();
    if (this.ready) void store.cache.start();
    return store;
  }

  unregister(info: ResourceInfo): void {
    const idx = this.resources.indexOf(info);
    if (idx >= 0) this.resources.splice(idx, 1);
    const resource = `${info.group}/${info.plural}`;
    // The resource's own store (served at some version or not; not one it shares with another resource).
    const own = this.byResource.get(resource);
    if (own && own.info === info) {
      own.cache.stop();
      this.byResource.delete(resource);
    }
    this.openapi.invalidate();
    for (const v of info.versions) {
      const key = this.storeKey(info.group, v, info.plural);
      this.stores.get(key)?.cache.stop();
      this.stores.delete(key);
      this.infos.delete(key);
    }
  }

  get servedResources(): readonly ResourceInfo[] {
    return this.resources;
  }

  storeFor(group: string, version: string, plural: string): GenericStore | undefined {
    return this.stores.get(this.storeKey(group, version, plural));
  }

  /** The store a group and plural name, whatever the version. */
  storeForResource(group: string, plural: string): GenericStore | undefined {
    return this.byResource.get(`${group}/${plural}`);
  }

  /** Fills every watch cache; the server is ready when they are. */
  async start(): Promise<void> {
    await Promise.all([...new Set(this.stores.values())].map((s) => s.cache.start()));
    const crds = this.storeFor('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
    this.customResources = new CustomResourceRegistry(this, crds, this.opts.backend);
    await this.customResources.start();
    await Promise.all([...new Set(this.stores.values())].map((s) => s.cache.start()));
    this.ready = true;
  }

  /** From now on readyz fails (its shutdown check), as kube-apiserver's does once it is told to terminate. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  stop(): void {
    this.customResources?.stop();
    for (const s of new Set(this.stores.values())) s.cache.stop();
    // Upgraded connections (exec, attach, port-forward) are no longer the HTTP server's to close.
    for (const socket of this.upgraded) socket.destroy();
  }

  private authenticate(req: IncomingMessage): User | Promise<User> {
    return authenticateRequest(req, this.authenticators);
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.inFlight.add(res);
    this.route(req, res).then(
      () => this.served(res),
      (err: unknown) => {
        sendError(res, err);
        this.served(res);
      },
    );
  };

  private served(res: ServerResponse): void {
    if (this.inFlight.delete(res) && this.inFlight.size === 0) this.onDrained?.();
  }

  /**
   * Resolves once every request being served has been answered (watches and
   * followed logs aside, which a shutdown ends), or after timeoutMs: as
   * kube-apiserver drains its in-flight requests before it stops.
   */
  drain(timeoutMs = 60_000): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.onDrained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * The listener's 'upgrade' event: exec, attach and portforward are proxied
   * to the pod's node agent (after the same authentication as every request);
   * any other request that merely carries an Upgrade header is answered as a
   * plain one. Errors before the upgrade are Status responses.
   */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    this.upgraded.add(socket);
    socket.once('close', () => this.upgraded.delete(socket));
    this.routeUpgrade(req, socket, head).catch((err: unknown) => sendError(this.responseOn(req, socket), err));
  };

  /** An HTTP response written straight to an upgrade request's socket, which closes after it. */
  private responseOn(req: IncomingMessage, socket: Duplex): ServerResponse {
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.on('finish', () => {
      res.detachSocket(socket as Socket);
      socket.end();
    });
    return res;
  }

  private async routeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://nami.invalid');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const info = parseRequestInfo(req.method ?? 'GET', path, url.searchParams);
    const sub = info.subresource ?? '';
    if (!(info.isResourceRequest && info.group === '' && info.resource === 'pods' && connectSubresources.has(sub) && info.namespace && info.name)) {
      this.handle(req, this.responseOn(req, socket));
      return;
    }
    await this.authenticate(req);
    const pods = this.storeFor('', info.version, 'pods');
    if (!pods) throw new NotFoundError({ group: '', resource: 'pods' }, 'the server could not find the requested resource');
    await proxyPodConnect({ subresource: sub, method: req.method ?? 'GET', namespace: info.namespace, name: info.name, query: url.searchParams, pods, storeFor: (g, v, p) => this.storeFor(g, v, p) }, this.opts.kubeletClient, req, socket, head);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path, query } = parseTarget(req.url ?? '/');
    const authenticated = this.authenticate(req);
    const user = authenticated instanceof Promise ? await authenticated : authenticated;
    if (req.method === 'GET' || req.method === 'HEAD') {
      const served = this.serveStatic(req, res, path, query);
      if (served === true) return;
      if (served) return served;
    }
    const info = parseRequestInfo(req.method ?? 'GET', path, query);
    if (!info.isResourceRequest || !info.resource) throw new NotFoundError({ group: '', resource: '' }, 'the server could not find the requested resource');
    if (info.verb === 'watch' || (info.subresource === 'log' && queryFlag(query, 'follow'))) this.served(res); // long-running: a shutdown does not wait for it
    const unstored = info.namespace === undefined ? this.unstored.get(this.storeKey(info.group, info.version, info.resource)) : undefined;
    if (unstored) return unstored(req, res, info, query, user);
    const store = this.storeFor(info.group, info.version, info.resource);
    if (!store) throw new NotFoundError({ group: info.group, resource: info.resource }, 'the server could not find the requested resource');
    await handleResource({ req, res, info, query, store, semantics: this.opts.semantics, storeFor: (g, v, p) => this.storeFor(g, v, p), versions: new VersionView(this.infos.get(this.storeKey(info.group, info.version, info.resource)) ?? store.info, info.version, store.info, store.version), kubeletClient: this.opts.kubeletClient, serviceAccountTokens: this.serviceAccountTokens });
  }

  private serveStatic(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> | true | undefined {
    switch (path) {
      case '/':
        sendJson(res, 200, rootPaths(this.resources, this.listedPaths()));
        return true;
      case '/version':
        sendJson(res, 200, { ...kubernetesVersion, gitCommit: '', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'nami', compiler: 'nami', platform: `${process.platform}/${process.arch}` });
        return true;
      case '/.well-known/openid-configuration':
      case '/openid/v1/jwks': {
        const tokens = this.serviceAccountTokens;
        if (!tokens) return undefined;
        if (path === '/openid/v1/jwks') sendJson(res, 200, tokens.keySet(), 'application/jwk-set+json');
        else sendJson(res, 200, tokens.openIdConfiguration(`https://${req.headers.host ?? this.opts.advertiseAddress}/openid/v1/jwks`));
        return true;
      }
      case '/api':
      case '/apis': {
        const agg = wantsAggregated(req.headers.accept);
        if (agg) {
          sendJson(res, 200, aggregatedDiscovery(this.resources, path === '/api', `apidiscovery.k8s.io/${agg.version}`), agg.type);
        } else {
          sendJson(res, 200, path === '/api' ? apiVersions(this.opts.advertiseAddress) : apiGroupList(this.resources));
        }
        return true;
      }
    }
    const health = /^\/(healthz|livez|readyz)(?:\/([^/]+))?$/.exec(path);
    if (health) {
      const which = health[1] as HealthPath;
      return serveHealth(res, which, this.healthChecks[which], health[2], query).then((served) => {
        if (!served) throw new NotFoundError({ group: '', resource: '' }, 'the server could not find the requested resource');
      });
    }
    const openapi = this.openapi.serve(req, res, path);
    if (openapi) return openapi;
    const extra = this.opts.extraRoutes?.get(path);
    if (extra) return Promise.resolve(extra(req, res, query));
    const parts = path.split('/').filter(Boolean);
    if (parts[0] === 'api' && parts.length === 2) return this.sendOr404(res, apiResourceList(this.resources, '', parts[1]!));
    if (parts[0] === 'apis' && parts.length === 2) return this.sendOr404(res, apiGroup(this.resources, parts[1]!));
    if (parts[0] === 'apis' && parts.length === 3) return this.sendOr404(res, apiResourceList(this.resources, parts[1]!, parts[2]!));
    return undefined;
  }

  /** The paths besides discovery's that "/" lists: version, health and each check, OpenAPI, service account issuer discovery, the extra routes. */
  private listedPaths(): string[] {
    const paths = ['/version', '/openapi/v2', '/openapi/v3', '/openapi/v3/'];
    for (const which of ['healthz', 'livez', 'readyz'] as const) {
      paths.push(`/${which}`);
      for (const check of this.healthChecks[which]) paths.push(`/${which}/${check.name}`);
    }
    if (this.serviceAccountTokens) paths.push('/.well-known/openid-configuration', '/openid/v1/jwks');
    for (const extra of this.opts.extraRoutes?.keys() ?? []) paths.push(extra);
    return paths;
  }

    private sendOr404(res: ServerResponse, body: object | undefined): true {
    if (!body) throw new NotFoundError({ group: '', resource: '' }, 'the server could not find the requested resource');
    sendJson(res, 200, body);
    return true;
  }
}
