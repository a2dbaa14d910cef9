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
//
// Young-generation collections (scavenges) then run on the main thread
// alone. A parallel scavenge hands chunks of the copying to the helpers and
// waits for every chunk: a helper that took one and then lost its core to
// the serving threads held the main thread, and every request in flight,
// until it ran again. Under load on two cores, scavenging alone gave about
// a tenth more label patches a second and less server CPU per patch.
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { setFlagsFromString } from 'node:v8';

/** How much lower than the process the helper threads run (nice steps). */
const helperNiceSteps = 10;

let lowered = false;

/**
 * Lowers every thread of this process but the main one by helperNiceSteps
 * (to at most nice 19), and has V8 scavenge without them. Called before the
 * process starts threads of its own (workers), so what it finds are Node's
 * and V8's helpers; only the first call does anything, since later ones
 * would find the workers too. Linux only (the threads are listed in
 * /proc/self/task); elsewhere, or where the threads cannot be listed,
 * nothing changes.
 */
export function lowerHelperThreads(): void {
  if (lowered) return;
  lowered = true;
  let tids: number[];
  try {
    tids = readdirSync('/proc/self/task').map(Number);
  } catch {
    return;
  }
  // Read by V8 at each scavenge, so it holds from the next one on.
  setFlagsFromString('--no-parallel-scavenge');
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
