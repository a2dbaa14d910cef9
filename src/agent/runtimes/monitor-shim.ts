// The agent's side of the node's monitor shim (`container-monitor.js --serve <socket>`): hands it a run dir
// over its unix socket and hears back when the container started. Starts the shim when none
// listens (once for concurrent callers); the shim outlives the agent, so after an agent restart
// the new agent finds it at the same socket.
import { existsSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { spawnPool } from '../spawn-pool.js';

/** Unix socket paths are limited to 108 bytes (sun_path). */
export const maxSocketPath = 100;

export class MonitorShim {
  private starting: Promise<void> | undefined;

  constructor(
    readonly socketPath: string,
    private readonly monitorJs: string,
    private readonly logFile: string,
  ) {}

  /** Asks the shim to run `dir`; `notice` settles once the container started or failed to (exited: the shim went away first). */
  async run(dir: string): Promise<{ notice: Promise<{ exited: boolean }> }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(dir);
      } catch (e) {
        if (attempt >= 2) throw e;
        await this.start();
      }
    }
  }

  private send(dir: string): Promise<{ notice: Promise<{ exited: boolean }> }> {
    return new Promise((resolve, reject) => {
      const conn = connect(this.socketPath);
      conn.once('error', reject);
      conn.once('connect', () => {
        conn.removeListener('error', reject);
        let answer = '';
        const notice = new Promise<{ exited: boolean }>((done) => {
          conn.on('data', (c: Buffer) => (answer += c.toString()));
          conn.on('error', () => undefined);
          conn.once('close', () => done({ exited: !answer.startsWith('started') }));
        });
        conn.write(`${dir}\n`);
        resolve({ notice });
      });
    });
  }

  /** Starts a shim (a stale socket of a dead one removed first); concurrent callers wait for the same one. */
  private start(): Promise<void> {
    this.starting ??= (async () => {
      // Whoever listens may have just appeared; only a socket nobody answers on is stale.
      if (await this.answers()) return;
      if (existsSync(this.socketPath)) unlinkSync(this.socketPath);
      const shim = await spawnPool.spawnDetached(process.execPath, [this.monitorJs, '--serve', this.socketPath], { cwd: '/', stderrFile: this.logFile });
      const n = await Promise.race([shim.notice, new Promise<{ exited: boolean }>((r) => setTimeout(() => r({ exited: true }), 10_000))]);
      if (n.exited) throw new Error(`the container monitor shim did not start (see ${this.logFile})`);
    })().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const conn = connect(this.socketPath);
      conn.once('connect', () => {
        conn.destroy();
        resolve(true);
      });
      conn.once('error', () => resolve(false));
    });
  }
}
