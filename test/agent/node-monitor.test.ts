// The node's own figures: allocatable from capacity less the kubelet's hard
// eviction thresholds, pressure conditions from a sample, status.images
// largest first and at most 50, and a real sample of this machine.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { healthOf, machineResources, NodeMonitor, reportedImages, sampleMachine, type MachineSample } from '../../src/agent/node-monitor.js';

const Gi = 1024 ** 3;
const base: MachineSample = { memoryTotalBytes: 8 * Gi, memoryAvailableBytes: 4 * Gi, fsTotalBytes: 100 * Gi, fsAvailableBytes: 50 * Gi, inodesTotal: 1000, inodesFree: 500 };

describe('node monitor', () => {
  it('computes allocatable as capacity less the eviction thresholds', () => {
    const { capacity, allocatable } = machineResources(base);
    assert.equal(capacity.memory, `${8 * 1024 * 1024}Ki`);
    assert.equal(allocatable.memory, `${8 * 1024 * 1024 - 100 * 1024}Ki`);
    assert.equal(capacity['ephemeral-storage'], `${100 * 1024 * 1024}Ki`);
    assert.equal(allocatable['ephemeral-storage'], String(90 * Gi));
    assert.equal(capacity.pods, '110');
  });

  it('reports memory and disk pressure at the kubelet default thresholds', () => {
    assert.deepEqual(healthOf(base), { memoryPressure: false, diskPressure: false, pidPressure: false, networkReady: true });
    assert.equal(healthOf({ ...base, memoryAvailableBytes: 99 * 1024 * 1024 }).memoryPressure, true);
    assert.equal(healthOf({ ...base, fsAvailableBytes: 9 * Gi }).diskPressure, true);
    assert.equal(healthOf({ ...base, inodesFree: 40 }).diskPressure, true);
  });

  it('lists images largest first, at most 50', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ names: [`img${i}:1`], sizeBytes: i * 10 }));
    const out = reportedImages(many);
    assert.equal(out.length, 50);
    assert.equal(out[0]!.names[0], 'img59:1');
    assert.equal(out[49]!.sizeBytes, 100);
  });

  it('samples this machine and keeps the last image list when listing fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nami-monitor-'));
    try {
      const s = sampleMachine(dir);
      assert.ok(s.fsTotalBytes > 0 && s.fsAvailableBytes <= s.fsTotalBytes);
      assert.ok(s.memoryAvailableBytes > 0 && s.memoryAvailableBytes <= s.memoryTotalBytes);
      let fail = false;
      const monitor = new NodeMonitor({ dataDir: dir, listImages: async () => (fail ? Promise.reject(new Error('store gone')) : [{ names: ['a:1'], sizeBytes: 5 }]) });
      await monitor.refresh();
      fail = true;
      await monitor.refresh();
      assert.deepEqual(monitor.images(), [{ names: ['a:1'], sizeBytes: 5 }]);
      monitor.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
