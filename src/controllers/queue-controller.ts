// The skeleton Kubernetes' controllers share: informers whose handlers
// only add keys to a work queue, and workers that sync one key at a time,
// a failed sync coming back later with backoff.
import type { Informer, InformerFactory, InformerOptions } from '../client/informer.js';
import type { ResourcePath, RestClient } from '../client/rest.js';
import { WorkQueue, runWorkers } from '../client/work-queue.js';

export interface QueueControllerOptions {
  log?: (line: string) => void;
  workers?: number;
}

export abstract class QueueController {
  protected readonly client: RestClient;
  protected readonly queue = new WorkQueue();
  protected readonly log: (line: string) => void;
  private readonly informers: Informer[] = [];

  constructor(
    protected readonly factory: InformerFactory,
    private readonly queueOptions: QueueControllerOptions,
    private readonly defaultWorkers = 1,
  ) {
    this.client = factory.client;
    this.log = queueOptions.log ?? (() => undefined);
  }

  /** An informer of the factory's, started with the controller. */
  protected informer(resource: ResourcePath, selectors: Pick<InformerOptions, 'labelSelector' | 'fieldSelector'> = {}): Informer {
    const informer = this.factory.informer(resource, selectors);
    this.informers.push(informer);
    return informer;
  }

  /** Starts the informers, then the workers once their caches are filled. */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
    void runWorkers(this.queue, this.queueOptions.workers ?? this.defaultWorkers, (key) => this.sync(key), this.log);
  }

  stop(): void {
    this.queue.shutDown();
  }

  abstract sync(key: string): Promise<void>;
}
