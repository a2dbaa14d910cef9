// An in-process Nami API server on 127.0.0.1:0 (HTTPS, client certificates,
// the memory store), with a REST client and a raw request helper that shows
// status codes and headers as a client sees them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/start.js';
import { loadKubeconfig, type ClientConfig } from '../../src/client/kubeconfig.js';
import { RestClient } from '../../src/client/rest.js';
import { openBackend } from '../../src/storage/open.js';
import type { User } from '../../src/apiserver/authn/index.js';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: Record<string, any> | undefined;
}

export interface RawRequest {
  body?: string | Buffer | object;
  contentType?: string;
  accept?: string;
  /** Send no client certificate. */
  anonymous?: boolean;
  /** Send `Authorization: Bearer <token>`. */
  bearer?: string;
  userAgent?: string;
}

export interface TestApiServer {
  server: RunningApiServer;
  config: ClientConfig;
  client: RestClient;
  raw(method: string, path: string, req?: RawRequest): Promise<RawResponse>;
  close(): Promise<void>;
}

/**
 * Polls fn until it gives something other than undefined/false (a throw
 * counts as not yet); fails after timeoutMs naming what it waited for and
 * the last error. The timeout only bounds a broken component.
 */
/** The message of a 403 Forbidden Status (an admission plugin's refusal), failing on any other answer. */
export function forbiddenMessage(r: RawResponse): string {
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json?.reason, 'Forbidden');
  return r.json?.message;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** waitFor for a condition that holds or not. */
export async function waitUntil(what: string, probe: () => boolean, timeoutMs?: number): Promise<void> {
  await waitFor(what, probe, timeoutMs);
}

/**
 * An API server of its own for a test. No controller makes service accounts
 * here, so the ServiceAccount admission plugin is off unless asked for (as
 * Kubernetes' integration tests run kube-apiserver).
 */
export async function startTestApiServer(storage = 'memory', opts: { tokens?: Map<string, User>; serviceAccountAdmission?: boolean } = {}): Promise<TestApiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nami-apiserver-test-'));
  const backend = await openBackend(storage, dataDir);
  const { serviceAccountAdmission, ...rest } = opts;
  const server = await startApiServer({ dataDir, host: '127.0.0.1', port: 0, backend, ...rest, disableAdmissionPlugins: serviceAccountAdmission ? [] : ['ServiceAccount'] });
  const config = loadKubeconfig(server.kubeconfigPath);
  const client = new RestClient(config, 'nami-test');
  const url = new URL(config.server);
  const raw = (method: string, path: string, req: RawRequest = {}): Promise<RawResponse> =>
    new Promise((resolve, reject) => {
      const body = req.body === undefined ? undefined : typeof req.body === 'string' || Buffer.isBuffer(req.body) ? req.body : JSON.stringify(req.body);
      const headers: Record<string, string> = { Accept: req.accept ?? 'application/json' };
      if (req.bearer !== undefined) headers.Authorization = `Bearer ${req.bearer}`;
      if (req.userAgent !== undefined) headers['User-Agent'] = req.userAgent;
      if (body !== undefined) {
        headers['Content-Type'] = req.contentType ?? 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(body));
      }
      const r = httpsRequest(
        {
          hostname: url.hostname,
          port: url.port,
          method,
          path,
          headers,
          ca: config.caPem,
          ...(req.anonymous ? {} : { cert: config.certPem, key: config.keyPem }),
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: Record<string, any> | undefined;
            try {
              json = JSON.parse(text) as Record<string, any>;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
          res.on('error', reject);
        },
      );
      r.on('error', reject);
      r.end(body);
    });
  return {
    server,
    config,
    client,
    raw,
    async close() {
      client.close();
      await server.close();
      await backend.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
