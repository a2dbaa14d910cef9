// The scheduler and the controller manager as one process runs them: each
// group leader-elected on its own Lease (kube-scheduler,
// kube-controller-manager), with one shared informer factory per leadership term.
import { InformerFactory } from '../client/informer.js';
import { LeaderElector } from '../client/leader-election.js';
import type { RestClient } from '../client/rest.js';
import { Scheduler } from '../scheduler/index.js';
import { CronJobController } from '../controllers/cronjob/controller.js';
import { DaemonSetController } from '../controllers/daemonset/controller.js';
import { DeploymentController } from '../controllers/deployment/controller.js';
import { DisruptionController } from '../controllers/disruption/controller.js';
import { EndpointsController } from '../controllers/endpoints/controller.js';
import { EndpointSliceController } from '../controllers/endpointslice/controller.js';
import { GarbageCollector } from '../controllers/garbagecollector/controller.js';
import { JobController } from '../controllers/job/controller.js';
import { NamespaceController } from '../controllers/namespace/controller.js';
import { NodeLifecycleController } from '../controllers/nodelifecycle/controller.js';
import { ReplicaSetController, ReplicationManager } from '../controllers/replicaset/controller.js';
import { ResourceQuotaController } from '../controllers/resourcequota/controller.js';
import { RootCaPublisher } from '../controllers/rootcacertpublisher/controller.js';
import { ServiceAccountController, TokensController } from '../controllers/serviceaccount/index.js';
import { StatefulSetController } from '../controllers/statefulset/controller.js';
import { VolumeController } from '../controllers/volume/controller.js';

export interface ControlPlaneOptions {
  scheduler: boolean;
  controllers: boolean;
  /** How long a node may go unheard before it is marked Unknown (default 40 s). */
  nodeMonitorGracePeriodMs?: number;
  /**
   * The key legacy service account tokens are signed with (PEM), as kube-controller-manager's
   * --service-account-private-key-file gives it: without it, token Secrets are not filled.
   */
  serviceAccountKeyPem?: string;
  log: (line: string) => void;
}

interface Component {
  start(): Promise<void>;
  stop(): void;
}

function controllers(factory: InformerFactory, opts: ControlPlaneOptions): Component[] {
  const log = opts.log;
  // The CA the controllers' client trusts is the cluster's, which every namespace gets in kube-root-ca.crt.
  const rootCaPem = factory.client.config.caPem;
  return [
    new NamespaceController(factory, { log }),
    new ServiceAccountController(factory, { log }),
    ...(opts.serviceAccountKeyPem ? [new TokensController(factory, { log, serviceAccountKeyPem: opts.serviceAccountKeyPem, ...(rootCaPem ? { rootCaPem } : {}) })] : []),
    ...(rootCaPem ? [new RootCaPublisher(factory, { log, rootCaPem })] : []),
    new GarbageCollector(factory, { log }),
    new ReplicaSetController(factory, { log }),
    new ReplicationManager(factory, { log }),
    new DeploymentController(factory, { log }),
    new StatefulSetController(factory, { log }),
    new DaemonSetController(factory, { log }),
    new JobController(factory, { log }),
    new CronJobController(factory, { log }),
    new EndpointsController(factory, { log }),
    new EndpointSliceController(factory, { log }),
    new NodeLifecycleController(factory, { log, nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs }),
    new VolumeController(factory, { log }),
    new ResourceQuotaController(factory, { log }),
    new DisruptionController(factory, { log }),
  ];
}

/** Runs `make`'s components while this process holds the Lease `name`; a new term starts them afresh. */
function leaderElected(client: RestClient, name: string, opts: ControlPlaneOptions, make: (factory: InformerFactory) => Component[]): LeaderElector {
  let running: { factory: InformerFactory; components: Component[] } | undefined;
  return new LeaderElector(client, { name, log: opts.log }, {
    async onStartedLeading() {
      const factory = new InformerFactory(client, { log: opts.log });
      const components = make(factory);
      running = { factory, components };
      await Promise.all(components.map((c) => c.start()));
      opts.log(`${name}: ${components.length} component(s) running`);
    },
    onStoppedLeading() {
      if (!running) return;
      for (const c of running.components) c.stop();
      running.factory.stop();
      running = undefined;
    },
  });
}

/** Starts campaigning for the scheduler and controller-manager Leases; stop() hands them back. */
export function startControlPlane(client: RestClient, opts: ControlPlaneOptions): { stop(): Promise<void> } {
  const electors: LeaderElector[] = [];
  if (opts.scheduler) electors.push(leaderElected(client, 'kube-scheduler', opts, (factory) => [new Scheduler(client, factory, { log: opts.log })]));
  if (opts.controllers) electors.push(leaderElected(client, 'kube-controller-manager', opts, (factory) => controllers(factory, opts)));
  for (const e of electors) e.start();
  return {
    async stop() {
      await Promise.all(electors.map((e) => e.stop()));
    },
  };
}
