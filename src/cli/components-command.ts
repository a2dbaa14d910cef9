// `nami scheduler` and `nami controllers`: one part of the control plane as a
// process of its own, against any API server.
import { loadKubeconfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { startControlPlane } from './control-plane.js';
import { secondsFlag } from './flags.js';
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';

/** --service-account-private-key-file: a private key in PEM, checked now so that a wrong file stops the command at once. */
function readKeyFile(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
    createPrivateKey(pem);
  } catch (err) {
    throw new Error(`--service-account-private-key-file ${path}: not a readable private key in PEM (${(err as Error).message}); give the API server's DIR/pki/sa.key`);
  }
  return pem;
}

export async function runComponentsCommand(which: 'scheduler' | 'controllers', opts: { kubeconfig: string; nodeMonitorGracePeriod: string; serviceAccountPrivateKeyFile?: string }): Promise<void> {
  const client = new RestClient(loadKubeconfig(opts.kubeconfig), `nami-${which}`);
  const verbose = process.env.NAMI_LOG === 'debug';
  const log = (line: string) => {
    if (verbose) process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  };
  const running = startControlPlane(client, {
    scheduler: which === 'scheduler',
    controllers: which === 'controllers',
    nodeMonitorGracePeriodMs: secondsFlag('--node-monitor-grace-period', opts.nodeMonitorGracePeriod),
    ...(opts.serviceAccountPrivateKeyFile ? { serviceAccountKeyPem: readKeyFile(opts.serviceAccountPrivateKeyFile) } : {}),
    log,
  });
  process.stdout.write(`nami ${which}: campaigning for the ${which === 'scheduler' ? 'kube-scheduler' : 'kube-controller-manager'} Lease at ${client.config.server}\n`);
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stop = () => {
    clearInterval(keepAlive);
    void running.stop().finally(() => {
      client.close();
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
