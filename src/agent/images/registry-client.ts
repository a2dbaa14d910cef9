// A small client for the OCI distribution API (docker registry v2): requests against one
// registry host and repository, with the auth flow the registries use —
//   401 + `WWW-Authenticate: Bearer realm=...,service=...,scope=...` → GET a token from the realm
//   (with basic credentials when given), retry with `Authorization: Bearer <token>`;
//   401 + `WWW-Authenticate: Basic ...` → retry with basic credentials —
// and redirects followed by hand (blob GETs are often redirected to a CDN / object store; the
// Authorization header is dropped when the redirect leaves the registry's origin).
//
// Plain http is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost).

export type RegistryAuth = { username: string; password: string } | { token: string };

/** What failed, in terms the agent can map to CRI / kubelet reasons. */
export type RegistryErrorCode = 'NotFound' | 'Unauthorized' | 'Unreachable' | 'DigestMismatch' | 'NoMatchingPlatform' | 'Unsupported' | 'Failed';

export class RegistryError extends Error {
  constructor(message: string, readonly code: RegistryErrorCode, readonly status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryError';
  }
}

export interface RegistryClientOptions {
  auth?: RegistryAuth;
  /** Plain http; refused unless the host is a loopback address. */
  insecure?: boolean;
  /** Aborts every request. */
  signal?: AbortSignal;
  /** Milliseconds to wait for a response's headers (default 30 s). */
  headersTimeoutMs?: number;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A function so a request can be re-sent after an auth challenge (a stream is single-use). */
  body?: () => Buffer | AsyncIterable<Buffer>;
  /** Redirects to follow (default 5); 0 returns 3xx responses as they are. */
  maxRedirects?: number;
}

const loopbackRe = /^(?:127(?:\.\d{1,3}){3}|localhost|\[::1\]|::1)$/i;

/** "127.0.0.1:5000" → "127.0.0.1"; "[::1]:5000" → "[::1]". */
export function hostOf(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(0, hostPort.indexOf(']') + 1);
  return hostPort.replace(/:\d+$/, '');
}

export function isLoopbackHost(hostPort: string): boolean {
  return loopbackRe.test(hostOf(hostPort));
}

/** Parses `Bearer realm="...",service="...",scope="..."` (and `Basic realm="..."`) challenges. */
export function parseChallenges(header: string | null): { scheme: string; params: Record<string, string> }[] {
  if (!header) return [];
  const out: { scheme: string; params: Record<string, string> }[] = [];
  const re = /([A-Za-z][\w-]*)(?:\s+|$)((?:\s*,?\s*[\w-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^,\s]*))*)/g;
  for (let m = re.exec(header); m; m = re.exec(header)) {
    if (m[0] === '') {
      re.lastIndex++;
      continue;
    }
    const params: Record<string, string> = {};
    const pre = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
    for (let p = pre.exec(m[2] ?? ''); p; p = pre.exec(m[2] ?? '')) params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
    out.push({ scheme: m[1]!.toLowerCase(), params });
  }
  return out;
}

/** `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}` → "unauthorized: authentication required". */
export function registryErrorText(body: string): string | undefined {
  try {
    const doc = JSON.parse(body) as { errors?: { code?: string; message?: string }[]; details?: string };
    const errs = (doc.errors ?? []).map((e) => [e.code?.toLowerCase(), e.message].filter(Boolean).join(': ')).filter(Boolean);
    if (errs.length > 0) return errs.join('; ');
  } catch {
    /* not JSON */
  }
  const t = body.trim();
  return t && t.length < 300 ? t : undefined;
}

function describeNetworkError(e: unknown): string {
  const c = (e as { cause?: NodeJS.ErrnoException & { errors?: Error[] } }).cause;
  if (c) {
    if (c.code && c.message) return c.message;
    if (Array.isArray(c.errors) && c.errors.length > 0) return c.errors.map((x) => x.message).join('; ');
    if (c.message) return c.message;
  }
  return (e as Error).message;
}

/** One registry host + repository. Tokens are cached per scope for the client's life. */
export class RegistryClient {
  readonly baseUrl: string;
  /** The Authorization header that last worked (a token, or basic credentials). */
  private authHeader: string | undefined;
  private readonly scope: string;

  /**
   * @param host registry host as in the reference ("127.0.0.1:5000"; "docker.io" → registry-1.docker.io)
   * @param repository the path in the reference ("library/busybox")
   * @param actions "pull" or "pull,push"
   */
  constructor(readonly host: string, readonly repository: string, private readonly opts: RegistryClientOptions = {}, actions = 'pull') {
    if (opts.insecure && !isLoopbackHost(host)) {
      throw new RegistryError(`insecure (plain http) registry access is allowed only for loopback hosts, not ${host}`, 'Unsupported');
    }
    const apiHost = host === 'docker.io' ? 'registry-1.docker.io' : host;
    this.baseUrl = `${opts.insecure ? 'http' : 'https'}://${apiHost}`;
    this.scope = `repository:${repository}:${actions}`;
    if (opts.auth && 'token' in opts.auth) this.authHeader = `Bearer ${opts.auth.token}`;
  }

  /** `/v2/<repository>/<suffix>` on this registry. */
  url(suffix: string): string {
    return `${this.baseUrl}/v2/${this.repository}/${suffix}`;
  }

  /**
   * Sends a request, answering one auth challenge and following redirects. Returns any response
   * (callers check the status); throws RegistryError for network failures and for 401s that
   * survive authentication.
   */
  async request(url: string, ro: RequestOptions = {}): Promise<Response> {
    let res = await this.send(url, ro, this.authHeader);
    if (res.status !== 401) return res;
    const challenge = res.headers.get('www-authenticate');
    const body401 = await res.text().catch(() => '');
    const sentCredentials = this.authHeader !== undefined;
    const next = await this.answerChallenge(challenge);
    if (next === undefined || (next === this.authHeader && sentCredentials)) throw this.unauthorized(url, body401, sentCredentials);
    this.authHeader = next;
    res = await this.send(url, ro, this.authHeader);
    if (res.status === 401) throw this.unauthorized(url, await res.text().catch(() => ''), true);
    return res;
  }

  private unauthorized(url: string, body: string, sentCredentials: boolean): RegistryError {
    const text = registryErrorText(body) ?? 'unauthorized: authentication required';
    const why = sentCredentials || this.opts.auth ? 'the registry rejected the credentials given' : 'no credentials were given';
    return new RegistryError(`${text} (${why}; ${this.host})`, 'Unauthorized', 401);
  }

  /** The Authorization header to retry with, or undefined when the challenge cannot be answered. */
  private async answerChallenge(header: string | null): Promise<string | undefined> {
    const challenges = parseChallenges(header);
    const auth = this.opts.auth;
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      if (auth && 'token' in auth) return `Bearer ${auth.token}`;
      const realm = bearer.params.realm;
      if (!realm) throw new RegistryError(`${this.host} sent a Bearer challenge without a realm`, 'Failed', 401);
      const scopes = new Set([this.scope, ...(bearer.params.scope ? bearer.params.scope.split(' ') : [])]);
      return `Bearer ${await this.fetchToken(realm, bearer.params.service, [...scopes])}`;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!auth || !('username' in auth)) return undefined;
      return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    }
    return undefined;
  }

  private async fetchToken(realm: string, service: string | undefined, scopes: string[]): Promise<string> {
    let u: URL;
    try {
      u = new URL(realm);
    } catch {
      throw new RegistryError(`${this.host} sent a Bearer challenge with a bad realm ${JSON.stringify(realm)}`, 'Failed', 401);
    }
    if (u.protocol === 'http:' && !isLoopbackHost(u.host)) throw new RegistryError(`refusing to send credentials to the plain-http token realm ${realm}`, 'Unsupported');
    if (service) u.searchParams.set('service', service);
    for (const s of scopes) u.searchParams.append('scope', s);
    const auth = this.opts.auth;
    const headers: Record<string, string> = {};
    if (auth && 'username' in auth) {
      headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
      u.searchParams.set('account', auth.username);
    }
    const res = await this.send(u.toString(), { headers }, undefined, true);
    const text = await res.text().catch(() => '');
    if (res.status === 401 || res.status === 403) {
      const why = auth ? 'the registry rejected the credentials given' : 'no credentials were given';
      throw new RegistryError(`${registryErrorText(text) ?? 'unauthorized: authentication required'} (token request to ${u.origin}${u.pathname}: ${why})`, 'Unauthorized', res.status);
    }
    if (!res.ok) throw new RegistryError(`token request to ${u.origin}${u.pathname} failed: ${res.status} ${res.statusText}${registryErrorText(text) ? `: ${registryErrorText(text)}` : ''}`, 'Failed', res.status);
    let doc: { token?: string; access_token?: string };
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch {
      throw new RegistryError(`token response from ${u.origin}${u.pathname} is not JSON`, 'Failed', res.status);
    }
    const token = doc.token ?? doc.access_token;
    if (!token) throw new RegistryError(`token response from ${u.origin}${u.pathname} has no token`, 'Failed', res.status);
    return token;
  }

  /** One request with manual redirects; Authorization is kept only on the registry's origin. */
  private async send(url: string, ro: RequestOptions, authorization: string | undefined, keepHeaders = false): Promise<Response> {
    const origin = new URL(this.baseUrl).origin;
    let current = url;
    let method = ro.method ?? 'GET';
    let withBody = true;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { ...(ro.headers ?? {}) };
      if (authorization && new URL(current).origin === origin) headers.authorization = authorization;
      if (!keepHeaders && new URL(current).origin !== origin) delete headers.authorization;
      const body = withBody && ro.body ? ro.body() : undefined;
      const timeout = AbortSignal.timeout(this.opts.headersTimeoutMs ?? 30_000);
      const signal = this.opts.signal ? AbortSignal.any([this.opts.signal, timeout]) : timeout;
      let res: Response;
      try {
        res = await fetch(current, {
          method,
          headers,
          redirect: 'manual',
          signal,
          ...(body !== undefined ? { body: Buffer.isBuffer(body) ? body : (toReadable(body) as unknown as NonNullable<RequestInit["body"]>), duplex: 'half' } : {}),
        } as RequestInit);
      } catch (e) {
        if (this.opts.signal?.aborted) throw e;
        const what = (e as Error).name === 'TimeoutError' ? 'timed out waiting for a response' : describeNetworkError(e);
        throw new RegistryError(`failed to do request: ${method} ${current}: ${what} (registry ${this.host} unreachable)`, 'Unreachable', undefined, { cause: e });
      }
      if (res.status >= 300 && res.status < 400 && res.headers.get('location') && (ro.maxRedirects ?? 5) > 0) {
        if (hop >= (ro.maxRedirects ?? 5)) throw new RegistryError(`too many redirects fetching ${url}`, 'Failed', res.status);
        await res.body?.cancel().catch(() => {});
        current = new URL(res.headers.get('location')!, current).toString();
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          method = 'GET';
          withBody = false;
        }
        continue;
      }
      return res;
    }
  }
}

function toReadable(src: AsyncIterable<Buffer>): ReadableStream<Uint8Array> {
  const it = src[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await it.next();
      if (done) controller.close();
      else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    },
    async cancel() {
      await it.return?.();
    },
  });
}

/** A response body as Buffers (for the store's writeBlob), counting bytes. */
export async function* bodyChunks(res: Response, onChunk?: (n: number) => void): AsyncIterable<Buffer> {
  if (!res.body) return;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    const b = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    onChunk?.(b.length);
    yield b;
  }
}

/** Reads a response body up to `limit` bytes (manifests are small; a huge one is refused). */
export async function readLimited(res: Response, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const b of bodyChunks(res)) {
    n += b.length;
    if (n > limit) {
      await res.body?.cancel().catch(() => {});
      throw new RegistryError(`${what} is larger than ${limit} bytes`, 'Failed', res.status);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
