// What requests allocate on the JS heap, from V8's sampling heap profiler in
// this process: a figure that barely moves from run to run (unlike timings on
// a noisy machine). Young-generation collections come once so many bytes
// are allocated, so fewer bytes a request means fewer of them.
import { Session } from 'node:inspector/promises';
import type { HeapProfiler } from 'node:inspector';

/** Bytes one sampling pass saw (each sample counts for the bytes it stands for). */
function sampledBytes(node: HeapProfiler.SamplingHeapProfileNode): number {
  let total = node.selfSize;
  for (const child of node.children) total += sampledBytes(child);
  return total;
}

/** JS heap bytes allocated per request by `run(count)`, which makes count requests. */
export async function allocatedPerRequest(count: number, run: (count: number) => Promise<unknown>): Promise<number> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.enable');
    // A sample every 256 bytes on average, garbage included: close to exact over thousands of requests.
    await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    await run(count);
    const { profile } = await session.post('HeapProfiler.stopSampling');
    return sampledBytes(profile.head) / count;
  } finally {
    session.disconnect();
  }
}

export function allocationRow(label: string, bytes: number): string {
  return `${label.padEnd(14)} ${(bytes / 1024).toFixed(1).padStart(6)} KB allocated on the JS heap per write`;
}
