// The Kubernetes version Nami's API speaks, as /version and OpenAPI report it.
export const kubernetesVersion = { major: '1', minor: '33', gitVersion: 'v1.33.0-nami.0.1.0' };
export const kubernetesVersionString = kubernetesVersion.gitVersion;
