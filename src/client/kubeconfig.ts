// Reads the parts of a kubeconfig a client needs to reach the API server.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

export interface ClientConfig {
  server: string;
  caPem?: string;
  certPem?: string;
  keyPem?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

function dataOrFile(data: unknown, file: unknown, base: string): string | undefined {
  if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
  if (typeof file === 'string') return readFileSync(resolve(base, file), 'utf8');
  return undefined;
}

export function loadKubeconfig(path: string, contextName?: string): ClientConfig {
  const doc = parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const base = dirname(path);
  const contexts = (doc.contexts ?? []) as Named<Record<string, string>>[];
  const wanted = contextName ?? (doc['current-context'] as string | undefined);
  const ctx = contexts.find((c) => c.name === wanted) ?? contexts[0];
  if (!ctx?.context) throw new Error(`kubeconfig ${path} has no context${wanted ? ` named "${wanted}"` : ''}`);
  const cluster = ((doc.clusters ?? []) as Named<Record<string, unknown>>[]).find((c) => c.name === ctx.context!.cluster)?.cluster;
  const user = ((doc.users ?? []) as Named<Record<string, unknown>>[]).find((u) => u.name === ctx.context!.user)?.user ?? {};
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`kubeconfig ${path}: cluster "${ctx.context.cluster}" has no server`);
  return {
    server: cluster.server,
    caPem: dataOrFile(cluster['certificate-authority-data'], cluster['certificate-authority'], base),
    certPem: dataOrFile(user['client-certificate-data'], user['client-certificate'], base),
    keyPem: dataOrFile(user['client-key-data'], user['client-key'], base),
    token: typeof user.token === 'string' ? user.token : undefined,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
  };
}
