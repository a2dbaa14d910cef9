// The volume through which a pod gets its service account's token: what the
// ServiceAccount admission plugin adds (TokenVolumeSource), and what node
// agents recognise of it.

type Json = Record<string, unknown>;

/** Where every container of an automounting pod finds token, ca.crt and namespace. */
export const serviceAccountTokenMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The projected token's lifetime asked for (kube-apiserver makes such a pod-bound token last a year and warn after this). */
export const projectedTokenExpirationSeconds = 3607;
/** The added volume's name is this and five random characters. */
export const tokenVolumePrefix = 'kube-api-access-';

/** The token volume (a projected token valid 3607 s, the cluster CA, the namespace), named as given. */
export function tokenVolume(name: string): Json {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: projectedTokenExpirationSeconds, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

/** Whether a volume's name is one the plugin gives (it finds such a volume again rather than add another). */
export function isTokenVolumeName(name: string): boolean {
  return name.startsWith(tokenVolumePrefix);
}
