// Kubeconfig files for the cluster's users, in the format kubectl reads:
// YAML written out here (every string double-quoted, which YAML reads as
// JSON does), so that the server need not load a YAML library to start.

export interface KubeconfigSpec {
  server: string;
  caPem: string;
  user: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  token?: string;
  clusterName?: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function renderKubeconfig(spec: KubeconfigSpec): string {
  const cluster = spec.clusterName ?? 'nami';
  const user: Record<string, string> = {};
  if (spec.clientCertPem) user['client-certificate-data'] = b64(spec.clientCertPem);
  if (spec.clientKeyPem) user['client-key-data'] = b64(spec.clientKeyPem);
  if (spec.token) user.token = spec.token;
  const q = JSON.stringify;
  const members = (obj: Record<string, string>, indent: string) =>
    Object.entries(obj)
      .map(([k, v]) => `${indent}${k}: ${q(v)}\n`)
      .join('');
  return (
    `apiVersion: v1\nkind: Config\n` +
    `clusters:\n  - name: ${q(cluster)}\n    cluster:\n${members({ server: spec.server, 'certificate-authority-data': b64(spec.caPem) }, '      ')}` +
    `users:\n  - name: ${q(spec.user)}\n    user:${Object.keys(user).length === 0 ? ' {}\n' : `\n${members(user, '      ')}`}` +
    `contexts:\n  - name: ${q(cluster)}\n    context:\n${members({ cluster, user: spec.user }, '      ')}` +
    `current-context: ${q(cluster)}\npreferences: {}\n`
  );
}
