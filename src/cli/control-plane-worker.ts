// The scheduler and controllers of `nami server`, on a worker thread of their
// own: they are API clients like any other (loopback HTTPS, the admin
// kubeconfig), and on their own thread they use the second core instead of
// competing with the API server for one.
import { parentPort, workerData } from 'node:worker_threads';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { startControlPlane, type ControlPlaneOptions } from './control-plane.js';

export interface ControlPlaneWorkerData {
  kubeconfig: string;
  options: Omit<ControlPlaneOptions, 'log'>;
  verbose: boolean;
}

const data = workerData as ControlPlaneWorkerData;
const log = (line: string) => {
  if (data.verbose) process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};
const client = new RestClient(loadKubeconfig(data.kubeconfig), 'nami-control-plane');
const running = startControlPlane(client, { ...data.options, log });
parentPort?.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  void running
    .stop()
    .catch(() => undefined)
    .finally(() => {
      client.close();
      parentPort?.postMessage('stopped');
    });
});
