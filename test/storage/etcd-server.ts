// A throwaway single-member etcd on loopback for tests: random free ports, a
// temporary data dir, default (durable) settings.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../../src/cli/executables.js';

export const etcdMissingMessage = 'etcd not found: install Debian package etcd-server';

/** The etcd binary on PATH, if any. */
export function findEtcd(): string | undefined {
  return findExecutable('etcd');
}

/**
 * How the etcd tests should treat a missing binary: skip with a hint on a
 * developer machine, but never silently skip under CI.
 */
export function etcdSkipReason(): string | undefined {
  if (findEtcd() || process.env.CI === 'true') return undefined;
  return etcdMissingMessage;
}

/** A loopback port free now (nothing listens on it once this resolves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface EtcdServer {
  /** host:port of the client endpoint. */
  endpoint: string;
  stop(): Promise<void>;
}

export async function startEtcd(): Promise<EtcdServer> {
  const binary = findEtcd();
  if (!binary) throw new Error(etcdMissingMessage);
  const dataDir = mkdtempSync(join(tmpdir(), 'nami-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const child: ChildProcess = spawn(
    binary,
    [
      '--name=nami-test',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=nami-test=${peerUrl}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`etcd did not become ready:\n${log.slice(-3000)}`)), 30_000);
      const onExit = (): void => done(new Error(`etcd exited during startup:\n${log.slice(-3000)}`));
      const onData = (): void => {
        if (log.includes('ready to serve client requests')) done();
      };
      const done = (err?: Error): void => {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.stderr?.off('data', onData);
        if (err) reject(err);
        else resolve();
      };
      child.once('exit', onExit);
      child.stderr?.on('data', onData);
      onData();
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint: `127.0.0.1:${clientPort}`, stop };
}
