// Keeps this node's routes to the other nodes' pod ranges in step with the
// Node objects (network/routes.ts does the routing): a node informer, and a
// sync shortly after any change and every minute (routes someone deleted come
// back).
import { nodesResource } from '../client/core-resources.js';
import { Informer } from '../client/informer.js';
import type { RestClient } from '../client/rest.js';
import { desiredRoutes, RouteSync } from './network/index.js';

export interface RouteControllerOptions {
  node: string;
  nodeIP: string;
  log?: (line: string) => void;
  /** Periodic re-sync (default 60 s). */
  resyncMs?: number;
}

export function startRouteController(client: RestClient, opts: RouteControllerOptions): { stop(): void } {
  const nodes = new Informer(client, nodesResource);
  const sync = new RouteSync({ log: opts.log });
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  let stopped = false;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      const r = await sync.sync(desiredRoutes(nodes.list(), opts.node, opts.nodeIP));
      for (const a of r.added) opts.log?.(`route added: ${a}`);
      for (const d of r.removed) opts.log?.(`route removed: ${d}`);
    } catch (e) {
      opts.log?.(`pod routes: ${(e as Error).message}`);
    } finally {
      running = false;
      if (again && !stopped) {
        again = false;
        void run();
      }
    }
  };
  const soon = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void run();
    }, 200);
  };
  nodes.on({ add: soon, update: soon, delete: soon });
  void nodes.start();
  const periodic = setInterval(soon, opts.resyncMs ?? 60_000);
  periodic.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(periodic);
      if (timer) clearTimeout(timer);
      nodes.stop();
    },
  };
}
