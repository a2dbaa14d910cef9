// The process's helper threads give way to the threads that serve requests.
//
// Node starts its helper threads with the process: V8's platform threads
// (the collector's concurrent marking, sweeping and parallel scavenging, and
// background compiles) and libuv's pool. On a machine with few cores they
// compete with the API server's main thread, its TLS front and its store
// writer; a major collection's concurrent marking then takes a core from the
// main thread for tens of milliseconds, in the middle of requests. At a
// lower priority the helpers run on what the serving threads leave; the
// collector's work still gets done (the main thread finishes the marking
// itself when it must), only later.
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How much lower than the process the helper threads run (nice steps). */
const helperNiceSteps = 10;

/**
 * Lowers every thread of this process but the main one by helperNiceSteps
 * (to at most nice 19). Called before the process starts threads of its own
 * (workers), so what it finds are Node's and V8's helpers. Linux only (the
 * threads are listed in /proc/self/task); elsewhere, or where the threads
 * cannot be listed or changed, nothing changes.
 */
export function lowerHelperThreads(): void {
  let tids: number[];
  try {
    tids = readdirSync('/proc/self/task').map(Number);
  } catch {
    return;
  }
  const nice = Math.min(19, getPriority(process.pid) + helperNiceSteps);
  for (const tid of tids) {
    if (tid === process.pid || !Number.isInteger(tid)) continue;
    try {
      // On Linux a thread id names that one thread here.
      setPriority(tid, nice);
    } catch {
      // The thread ended meanwhile: nothing to lower.
    }
  }
}
