// The result of a plugin at an extension point, as the Kubernetes scheduler
// framework's Status: a code and the reasons behind it.

export type Code =
  /** The plugin ran and found nothing wrong. */
  | 'Success'
  /** Something went wrong inside the scheduler or on the way to the API server. */
  | 'Error'
  /** The pod does not fit now; preemption might make room. */
  | 'Unschedulable'
  /** The pod does not fit, and preempting pods on the node would not change that. */
  | 'UnschedulableAndUnresolvable'
  /** A permit plugin holds the pod before binding. */
  | 'Wait'
  /** PreFilter/PreScore: the plugin has nothing to say for this pod; its Filter/Score is skipped. Bind: let the next binder bind. */
  | 'Skip'
  /** The pod waits for something outside the scheduler. */
  | 'Pending';

export class Status {
  constructor(
    readonly code: Code,
    readonly reasons: readonly string[] = [],
    /** The plugin that produced the status (set by the framework). */
    public plugin = '',
    readonly error?: Error,
  ) {}

  private static readonly successStatus = new Status('Success');
  private static readonly skipStatus = new Status('Skip');

  /** The shared success status (nothing is allocated on the hot path). */
  static success(): Status {
    return Status.successStatus;
  }

  static skip(): Status {
    return Status.skipStatus;
  }

  static unschedulable(...reasons: string[]): Status {
    return new Status('Unschedulable', reasons);
  }

  static unresolvable(...reasons: string[]): Status {
    return new Status('UnschedulableAndUnresolvable', reasons);
  }

  static error(err: unknown): Status {
    const e = err instanceof Error ? err : new Error(String(err));
    return new Status('Error', [e.message], '', e);
  }

  isSuccess(): boolean {
    return this.code === 'Success';
  }

  isSkip(): boolean {
    return this.code === 'Skip';
  }

  /** Unschedulable, UnschedulableAndUnresolvable or Pending: the pod does not fit (as opposed to an error). */
  isRejected(): boolean {
    return this.code === 'Unschedulable' || this.code === 'UnschedulableAndUnresolvable' || this.code === 'Pending';
  }

  message(): string {
    return this.reasons.join(', ');
  }

  /** A copy naming the plugin (the shared statuses are never changed). */
  withPlugin(plugin: string): Status {
    if (this.plugin === plugin) return this;
    return new Status(this.code, this.reasons, plugin, this.error);
  }

  toString(): string {
    return this.reasons.length ? `${this.code}: ${this.message()}` : this.code;
  }
}
