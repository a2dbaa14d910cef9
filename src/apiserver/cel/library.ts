import type { Environment } from '@marcbachmann/cel-js';
export function registerKubernetesLibraries(env: Environment): Environment {
  return env;
}
