// The TLS front's thread, which takes a good part of a cold start to boot
// (a Node environment of its own): `nami server` starts it before it loads
// the rest of the API server, so that both load at once on two cores.
// Imports nothing of the API server, to be cheap to load first.
import { Worker } from 'node:worker_threads';

let early: Worker | undefined;

function spawn(): Worker {
  const worker = new Worker(new URL('./tls-front-worker.js', import.meta.url));
  // Only a listening front keeps the process alive (TlsFront refs it then).
  worker.unref();
  return worker;
}

/** Starts the front's thread now, for the next TlsFront to take. */
export function prestartTlsFrontThread(): void {
  early ??= spawn();
}

/** The thread prestartTlsFrontThread started, or a new one. */
export function takeTlsFrontThread(): Worker {
  const worker = early ?? spawn();
  early = undefined;
  return worker;
}
