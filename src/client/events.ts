// Recording core/v1 Events about objects, as client-go's EventRecorder: the
// same event again within a process bumps count and lastTimestamp instead of
// creating another object.
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../api/object.js';
import type { RestClient } from './rest.js';

const events = { group: '', version: 'v1', plural: 'events' };

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

export class EventRecorder {
  /** (object uid, type, reason, message) -> the Event created for it, with its count */
  private readonly seen = new Map<string, { namespace: string; name: string; count: number }>();

  constructor(
    private readonly client: RestClient,
    /** source.component and reportingComponent, e.g. "default-scheduler" */
    private readonly component: string,
    private readonly host?: string,
  ) {}

  /** Records an event; failures are swallowed (events are best effort, as in Kubernetes). */
  async record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const namespace = obj.metadata.namespace || 'default';
    const key = [obj.metadata.uid, type, reason, message].join('\u0000');
    const timestamp = now();
    try {
      const previous = this.seen.get(key);
      if (previous) {
        previous.count++;
        await this.client.patch({ ...events, namespace, name: previous.name }, { count: previous.count, lastTimestamp: timestamp }, 'merge');
        return;
      }
      const name = `${obj.metadata.name}.${randomBytes(8).toString('hex')}`;
      const source: Record<string, string> = { component: this.component };
      if (this.host) source.host = this.host;
      await this.client.create(
        { ...events, namespace },
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace },
          involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
          reason,
          message,
          type,
          count: 1,
          firstTimestamp: timestamp,
          lastTimestamp: timestamp,
          source,
          reportingComponent: this.component,
          reportingInstance: this.host ?? '',
        },
      );
      if (this.seen.size > 4096) this.seen.clear();
      this.seen.set(key, { namespace, name, count: 1 });
    } catch {
      // Best effort: an event that cannot be written is dropped.
    }
  }
}
