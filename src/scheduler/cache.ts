// The scheduler's view of nodes and the pods bound (or about to be bound) to
// them. Pods the scheduler has just placed are "assumed" on their node at
// once, so the next pod sees the room they take before the API server's
// watch reports the binding (Kubernetes' internal/cache).
import type { Node } from '../api/scheduling/index.js';
import { NodeInfo, type NodeInfoLister } from './node-info.js';
import type { PodInfo } from './pod-info.js';

interface PodState {
  info: PodInfo;
  assumed: boolean;
  /** The binding call returned (an assumed pod is then only waiting for the watch). */
  bindingFinished: boolean;
}

export class SchedulerCache implements NodeInfoLister {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, PodState>();
  private nodeList: NodeInfo[] | undefined;
  /** Nodes hosting pods with (required anti-)affinity, kept as pods come and go so plugins need not scan every node. */
  private readonly withAffinity = new Set<NodeInfo>();
  private readonly withRequiredAntiAffinity = new Set<NodeInfo>();
  private affinityList: NodeInfo[] | undefined;
  private antiAffinityList: NodeInfo[] | undefined;

  // --- nodes

  addNode(node: Node): NodeInfo {
    const name = node.metadata.name ?? '';
    let info = this.nodes.get(name);
    if (!info) {
      info = new NodeInfo(name);
      this.nodes.set(name, info);
    }
    const had = info.node !== undefined;
    info.setNode(node);
    if (!had) this.nodeList = this.affinityList = this.antiAffinityList = undefined;
    return info;
  }

  updateNode(node: Node): NodeInfo {
    return this.addNode(node);
  }

  removeNode(name: string): void {
    const info = this.nodes.get(name);
    if (!info) return;
    info.node = undefined;
    this.affinityList = this.antiAffinityList = undefined;
    // Pods still bound to a deleted node keep their NodeInfo until they go.
    if (info.pods.length === 0) this.nodes.delete(name);
    this.nodeList = undefined;
  }

  list(): readonly NodeInfo[] {
    if (!this.nodeList) this.nodeList = [...this.nodes.values()].filter((n) => n.node !== undefined);
    return this.nodeList;
  }

  get(name: string): NodeInfo | undefined {
    const info = this.nodes.get(name);
    return info?.node ? info : undefined;
  }

  havePodsWithAffinity(): readonly NodeInfo[] {
    if (!this.affinityList) this.affinityList = [...this.withAffinity].filter((n) => n.node !== undefined);
    return this.affinityList;
  }

  havePodsWithRequiredAntiAffinity(): readonly NodeInfo[] {
    if (!this.antiAffinityList) this.antiAffinityList = [...this.withRequiredAntiAffinity].filter((n) => n.node !== undefined);
    return this.antiAffinityList;
  }

  private trackAffinity(node: NodeInfo, pod: PodInfo): void {
    if (pod.hasAffinity) {
      const has = node.podsWithAffinity.length > 0;
      if (has !== this.withAffinity.has(node)) {
        if (has) this.withAffinity.add(node);
        else this.withAffinity.delete(node);
        this.affinityList = undefined;
      }
    }
    if (pod.hasRequiredAntiAffinity) {
      const has = node.podsWithRequiredAntiAffinity.length > 0;
      if (has !== this.withRequiredAntiAffinity.has(node)) {
        if (has) this.withRequiredAntiAffinity.add(node);
        else this.withRequiredAntiAffinity.delete(node);
      }
      this.antiAffinityList = undefined;
    }
  }

  get nodeCount(): number {
    return this.list().length;
  }

  // --- pods

  private place(info: PodInfo): void {
    let node = this.nodes.get(info.nodeName);
    if (!node) {
      node = new NodeInfo(info.nodeName);
      this.nodes.set(info.nodeName, node);
    }
    node.addPod(info);
    this.trackAffinity(node, info);
  }

  private unplace(info: PodInfo): void {
    const node = this.nodes.get(info.nodeName);
    if (!node) return;
    node.removePod(info.key);
    this.trackAffinity(node, info);
    if (!node.node && node.pods.length === 0) this.nodes.delete(info.nodeName);
  }

  /** Counts the pod on its node (info.nodeName) before the API server has bound it. */
  assumePod(info: PodInfo): void {
    const existing = this.pods.get(info.key);
    if (existing) this.unplace(existing.info);
    this.pods.set(info.key, { info, assumed: true, bindingFinished: false });
    this.place(info);
  }

  finishBinding(key: string): void {
    const st = this.pods.get(key);
    if (st?.assumed) st.bindingFinished = true;
  }

  /** Takes back an assumed pod whose binding failed. */
  forgetPod(key: string): void {
    const st = this.pods.get(key);
    if (!st?.assumed) return;
    this.unplace(st.info);
    this.pods.delete(key);
  }

  isAssumed(key: string): boolean {
    return this.pods.get(key)?.assumed === true;
  }

  /** A pod bound to a node, as the watch reports it: confirms an assumed pod, or adds it. */
  addPod(info: PodInfo): void {
    const st = this.pods.get(info.key);
    if (st) this.unplace(st.info);
    this.pods.set(info.key, { info, assumed: false, bindingFinished: true });
    this.place(info);
  }

  updatePod(info: PodInfo): void {
    this.addPod(info);
  }

  /** Returns the removed pod, if it was known. */
  removePod(key: string): PodInfo | undefined {
    const st = this.pods.get(key);
    if (!st) return undefined;
    this.unplace(st.info);
    this.pods.delete(key);
    return st.info;
  }

  getPod(key: string): PodInfo | undefined {
    return this.pods.get(key)?.info;
  }

  get podCount(): number {
    return this.pods.size;
  }
}
