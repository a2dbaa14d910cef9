// /healthz, /livez and /readyz, and each of their checks on its own path
// (/readyz/etcd ...), as kube-apiserver's healthz package serves them: "ok"
// when every check passes, or with ?verbose a line per check; on any failure
// 500 with a line per check (the reason withheld: these paths are public,
// as kube-apiserver withholds it) and "<path> check failed". ?exclude=NAME skips a
// check. A check's own path answers "ok", or 500 with its error.
import type { ServerResponse } from 'node:http';
import type { Backend } from '../storage/backend.js';
import { sendText } from './http/respond.js';

/** How long the store may take to answer the etcd check (kube-apiserver's --etcd-healthcheck-timeout). */
const storageCheckMs = 2000;

/** `work`, or a rejection once it has taken storageCheckMs. */
export async function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${storageCheckMs / 1000}s`)), storageCheckMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves when the store answers a read within storageCheckMs; rejects with why not. */
export async function checkStorage(backend: Backend): Promise<void> {
  await withTimeout(backend.currentRevision());
}

export interface HealthCheck {
  name: string;
  /** Throws (or rejects) with the reason the check fails. */
  check(): void | Promise<void>;
}

export type HealthPath = 'healthz' | 'livez' | 'readyz';

export interface HealthSources {
  backend: Backend;
  /** Whether the watch caches are filled (readyz's informer-sync). */
  synced(): boolean;
  /** Whether the server is shutting down (readyz's shutdown). */
  shuttingDown(): boolean;
}

/** The checks of each path, in kube-apiserver's order. */
export function healthChecks(sources: HealthSources): Record<HealthPath, HealthCheck[]> {
  const ping: HealthCheck = { name: 'ping', check: () => undefined };
  const etcd: HealthCheck = { name: 'etcd', check: () => checkStorage(sources.backend) };
  const informerSync: HealthCheck = {
    name: 'informer-sync',
    check: () => {
      if (!sources.synced()) throw new Error('the watch caches are not filled yet');
    },
  };
  const shutdown: HealthCheck = {
    name: 'shutdown',
    check: () => {
      if (sources.shuttingDown()) throw new Error('process is shutting down');
    },
  };
  return { healthz: [ping, etcd], livez: [ping, etcd], readyz: [ping, etcd, informerSync, shutdown] };
}

/** What `run` threw or rejected with; undefined when it passed. */
export async function failureOf(run: () => void | Promise<void>): Promise<Error | undefined> {
  try {
    await run();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function failure(check: HealthCheck): Promise<Error | undefined> {
  return failureOf(() => check.check());
}

/**
 * Serves `/<path>` (check undefined) or `/<path>/<check>`; false when the
 * path has no check of that name (the caller answers 404).
 */
export async function serveHealth(res: ServerResponse, path: HealthPath, checks: readonly HealthCheck[], checkName: string | undefined, query: URLSearchParams): Promise<boolean> {
  if (checkName !== undefined) {
    const check = checks.find((c) => c.name === checkName);
    if (!check) return false;
    const err = await failure(check);
    if (err) sendText(res, 500, `internal server error: ${err.message}\n`);
    else sendText(res, 200, 'ok');
    return true;
  }
  const excluded = new Set(query.getAll('exclude'));
  const results = await Promise.all(checks.map((c) => (excluded.has(c.name) ? Promise.resolve('excluded' as const) : failure(c))));
  let lines = '';
  let failed = false;
  checks.forEach((c, i) => {
    const result = results[i];
    excluded.delete(c.name);
    if (result === 'excluded') lines += `[+]${c.name} excluded: ok\n`;
    else if (result) {
      lines += `[-]${c.name} failed: reason withheld\n`;
      failed = true;
    } else lines += `[+]${c.name} ok\n`;
  });
  if (excluded.size > 0) {
    lines += `warn: some health checks cannot be excluded: no matches for ${[...excluded].sort().map((n) => JSON.stringify(n)).join(',')}\n`;
  }
  if (failed) {
    sendText(res, 500, `${lines}${path} check failed\n`);
  } else {
    sendText(res, 200, query.has('verbose') ? `${lines}${path} check passed\n` : 'ok');
  }
  return true;
}
