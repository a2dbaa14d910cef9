// A small REST client for the Kubernetes API: JSON requests, Status errors
// turned back into typed ApiErrors, and streaming watches.
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createSecureContext } from 'node:tls';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { ApiError, type Status, type StatusReason } from '../api/errors.js';
import type { KubeList, KubeObject } from '../api/object.js';
import type { ClientConfig } from './kubeconfig.js';

export interface ResourcePath {
  group: string;
  version: string;
  plural: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export function resourceUrlPath(p: ResourcePath): string {
  const root = p.group ? `/apis/${p.group}/${p.version}` : `/api/${p.version}`;
  const ns = p.namespace ? `/namespaces/${encodeURIComponent(p.namespace)}` : '';
  const name = p.name ? `/${encodeURIComponent(p.name)}` : '';
  const sub = p.subresource ? `/${p.subresource}` : '';
  return `${root}${ns}/${p.plural}${name}${sub}`;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchHandle {
  stop(): void;
  /** Resolves when the stream ends (server closed it, error, or stop()). */
  done: Promise<void>;
}

export class RestClient {
  private readonly agent: HttpsAgent | HttpAgent;
  private readonly url: URL;

  constructor(
    readonly config: ClientConfig,
    readonly userAgent = 'nami',
  ) {
    this.url = new URL(config.server);
    // One TLS context for every connection: building one per connection costs about 1 ms of CPU each.
    this.agent =
      this.url.protocol === 'https:'
        ? new HttpsAgent({
            keepAlive: true,
            maxSockets: 256,
            secureContext: createSecureContext({ ca: config.caPem, cert: config.certPem, key: config.keyPem }),
            rejectUnauthorized: !config.insecureSkipTlsVerify,
          })
        : new HttpAgent({ keepAlive: true, maxSockets: 256 });
  }

  close(): void {
    this.agent.destroy();
  }

  private open(method: string, path: string, opts: RequestOptions): Promise<IncomingMessage> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const search = qs.toString();
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json', 'User-Agent': this.userAgent };
    if (body !== undefined) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    if (this.config.token) headers.Authorization = `Bearer ${this.config.token}`;
    const requestFn = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = requestFn(
        { protocol: this.url.protocol, hostname: this.url.hostname, port: this.url.port, method, path: path + (search ? `?${search}` : ''), headers, agent: this.agent },
        resolve,
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** The response body undecoded, with its content type; a 4xx/5xx throws its Status as an ApiError. */
  async requestText(method: string, path: string, opts: RequestOptions = {}): Promise<{ text: string; contentType: string }> {
    const res = await this.open(method, path, opts);
    const text = await readText(res);
    const code = res.statusCode ?? 0;
    if (code >= 400) throw errorFromResponse(code, text);
    return { text, contentType: res.headers['content-type'] ?? '' };
  }

  /**
   * Reads the body to its end without keeping it and gives its length in
   * bytes: what a large answer costs the server and the wire, without the
   * client's own copy of it; a 4xx/5xx throws its Status as an ApiError.
   */
  async requestLength(method: string, path: string, opts: RequestOptions = {}): Promise<number> {
    const res = await this.open(method, path, opts);
    const code = res.statusCode ?? 0;
    if (code >= 400) throw errorFromResponse(code, await readText(res));
    let length = 0;
    for await (const c of res) length += (c as Buffer).length;
    return length;
  }

  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const { text, contentType } = await this.requestText(method, path, opts);
    return (contentType.includes('json') && text ? JSON.parse(text) : text) as T;
  }

  get<T = KubeObject>(p: ResourcePath, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', resourceUrlPath(p), { query });
  }

  /** get, or undefined when the object does not exist (404); other errors throw as get's do. */
  async getIfExists<T = KubeObject>(p: ResourcePath, query?: RequestOptions['query']): Promise<T | undefined> {
    try {
      return await this.get<T>(p, query);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  list<T = KubeList>(p: ResourcePath, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', resourceUrlPath({ ...p, name: undefined }), { query });
  }

  /** POST to the collection, or to a named object's subresource (pods/NAME/binding, pods/NAME/eviction). */
  create<T = KubeObject>(p: ResourcePath, body: unknown, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('POST', resourceUrlPath(p.subresource ? p : { ...p, name: undefined }), { body, query });
  }

  update<T = KubeObject>(p: ResourcePath, body: unknown, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('PUT', resourceUrlPath(p), { body, query });
  }

  patch<T = KubeObject>(p: ResourcePath, body: unknown, type: 'merge' | 'json' | 'strategic' | 'apply', query?: RequestOptions['query']): Promise<T> {
    const contentType = {
      merge: 'application/merge-patch+json',
      json: 'application/json-patch+json',
      strategic: 'application/strategic-merge-patch+json',
      apply: 'application/apply-patch+yaml',
    }[type];
    return this.request<T>('PATCH', resourceUrlPath(p), { body, contentType, query });
  }

  delete<T = KubeObject>(p: ResourcePath, options?: Record<string, unknown>, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('DELETE', resourceUrlPath(p), { body: options, query });
  }

  /** Streams watch events; onEvent is called per line. */
  watch(p: ResourcePath, query: RequestOptions['query'], onEvent: (type: WatchEventType, object: KubeObject) => void): WatchHandle {
    let stopped = false;
    let response: IncomingMessage | undefined;
    const done = (async () => {
      const res = await this.open('GET', resourceUrlPath({ ...p, name: undefined }), { query: { ...query, watch: 'true' } });
      response = res;
      if (stopped) {
        res.destroy();
        return;
      }
      if ((res.statusCode ?? 0) >= 400) throw errorFromResponse(res.statusCode ?? 0, await readText(res));
      let buffered = '';
      try {
        for await (const chunk of res) {
          buffered += (chunk as Buffer).toString('utf8');
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            const ev = JSON.parse(line) as { type: WatchEventType; object: KubeObject };
            onEvent(ev.type, ev.object);
          }
        }
      } catch (err) {
        if (!stopped) throw err;
      }
    })();
    return {
      stop() {
        stopped = true;
        response?.destroy();
      },
      done,
    };
  }
}

export function errorFromResponse(code: number, text: string): ApiError {
  try {
    const status = JSON.parse(text) as Partial<Status>;
    if (status.kind === 'Status') return new ApiError(code, (status.reason ?? 'InternalError') as StatusReason, status.message ?? text, status.details);
  } catch {
    // not a Status
  }
  return new ApiError(code, code === 404 ? 'NotFound' : 'InternalError', text || `HTTP ${code}`);
}

/** A response's whole body as UTF-8 text. */
async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
