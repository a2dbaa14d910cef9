// Node health as the node lifecycle controller judges it
// (tryUpdateNodeHealth): a node is heard from when its Ready condition's
// lastHeartbeatTime changes or its Lease in kube-node-lease is renewed, timed
// by this process's clock (so clock skew between hosts does not matter). A
// node not heard from for the grace period gets its conditions set Unknown.
import { condition, type NodeCondition } from './taints.js';

interface Record {
  /** When the node was last heard from (ms, this process's clock). */
  probe: number;
  heartbeat: string | undefined;
  renewTime: string | undefined;
  hadReady: boolean;
}

export interface NodeView {
  name: string;
  creationTimestamp?: string;
  conditions?: NodeCondition[];
}

/** The condition types set Unknown when the kubelet goes quiet (NetworkUnavailable is not the kubelet's). */
export const monitoredConditions = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export class NodeHealthTracker {
  private readonly records = new Map<string, Record>();

  constructor(
    /** How long a node that has posted status may stay silent (nodeMonitorGracePeriod). */
    private readonly monitorGraceMs: number,
    /** How long a new node may take to post its first status (nodeStartupGracePeriod). */
    private readonly startupGraceMs: number,
  ) {}

  /**
   * Takes in what the node and its lease show now; returns when it was last
   * heard from, the grace period that applies, and whether this is the first
   * time this tracker sees it.
   */
  observe(node: NodeView, leaseRenewTime: string | undefined, now: number): { probe: number; grace: number; deadline: number; expired: boolean; first: boolean } {
    const ready = condition(node.conditions, 'Ready');
    let rec = this.records.get(node.name);
    const first = rec === undefined;
    if (!rec) {
      const created = node.creationTimestamp ? Date.parse(node.creationTimestamp) : NaN;
      // A node that never posted status is timed from its creation.
      rec = { probe: ready || Number.isNaN(created) ? now : created, heartbeat: ready?.lastHeartbeatTime ?? undefined, renewTime: undefined, hadReady: !!ready };
      this.records.set(node.name, rec);
    } else {
      const heartbeat = ready?.lastHeartbeatTime ?? undefined;
      // The condition this controller adds to a node that never posted status is no heartbeat.
      if (ready && heartbeat !== rec.heartbeat && ready.reason !== 'NodeStatusNeverUpdated') rec.probe = now;
      else if (!ready && rec.hadReady) rec.probe = now;
      rec.heartbeat = heartbeat;
    }
    rec.hadReady = !!ready;
    // A renewal moves renewTime forward (a lease recreated with an older time is no sign of life).
    if (leaseRenewTime && leaseRenewTime !== rec.renewTime && (rec.renewTime === undefined || !(Date.parse(leaseRenewTime) < Date.parse(rec.renewTime)))) {
      rec.probe = now;
      rec.renewTime = leaseRenewTime;
    }
    const grace = ready ? this.monitorGraceMs : this.startupGraceMs;
    const deadline = rec.probe + grace;
    return { probe: rec.probe, grace, deadline, expired: now > deadline, first };
  }

  forget(name: string): void {
    this.records.delete(name);
  }
}

/**
 * The node's conditions once it is judged silent: Ready, MemoryPressure,
 * DiskPressure and PIDPressure become Unknown ("Kubelet stopped posting node
 * status."), missing ones are added as never updated. Undefined when they
 * already are.
 */
export function unknownConditions(node: NodeView, now: string): NodeCondition[] | undefined {
  const conditions = (node.conditions ?? []).map((c) => ({ ...c }));
  let changed = false;
  for (const type of monitoredConditions) {
    const c = conditions.find((x) => x.type === type);
    if (!c) {
      conditions.push({
        type,
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: node.creationTimestamp ?? now,
        lastTransitionTime: now,
      });
      changed = true;
    } else if (c.status !== 'Unknown') {
      c.status = 'Unknown';
      c.reason = 'NodeStatusUnknown';
      c.message = 'Kubelet stopped posting node status.';
      c.lastTransitionTime = now;
      changed = true;
    }
  }
  return changed ? conditions : undefined;
}
