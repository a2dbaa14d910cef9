// Connects to a TCP port inside a network namespace (a pod's 127.0.0.1, as
// the kubelet's port-forward does) through netns-relay.js run under nsenter,
// and hands back the connection as a Duplex.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';

const relayJs = fileURLToPath(new URL('./netns-relay.js', import.meta.url));

/** Resolves once connected; rejects with the relay's reason (e.g. "connection refused"). */
export function connectInNetns(netnsPath: string, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${netnsPath}`, '--', process.execPath, relayJs, host, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    let settled = false;
    const settle = (e?: Error) => {
      if (settled) return;
      settled = true;
      if (e) reject(e);
      else {
        const conn = Duplex.from({ readable: child.stdout, writable: child.stdin });
        conn.on('close', () => {
          if (child.exitCode === null) child.kill();
        });
        resolve(conn);
      }
    };
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      const line = err.split('\n')[0];
      if (err.includes('\n')) {
        if (line === 'connected') settle();
        else settle(new Error(line));
      }
    });
    child.on('error', (e) => settle(new Error(`cannot run nsenter: ${e.message}`)));
    child.on('exit', (code) => settle(new Error(err.trim() || `relay exited with code ${code}`)));
    child.stdin.on('error', () => undefined);
  });
}

/** Connects to this machine's 127.0.0.1:port (host-network pods, the process runtime); rejects with Go's wording for a refused port. */
export function connectLoopback(port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'ECONNREFUSED' ? `dial tcp4 127.0.0.1:${port}: connect: connection refused` : e.message)));
  });
}
