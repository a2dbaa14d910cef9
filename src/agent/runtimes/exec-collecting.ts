// The CRI's ExecSync as both runtimes run it: a command's exit code and its stdout and stderr
// together (capped at 10 KiB), killed when it outlives its timeout.
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
const maxOutput = 10 * 1024;

/** Collects a started command's output; after timeoutMs calls kill() and rejects. */
export function execCollecting(child: ChildProcessByStdio<null, Readable, Readable>, command: string[], timeoutMs: number, kill: () => void): Promise<{ exitCode: number; output: string }> {
  return new Promise((done, fail) => {
    let output = '';
    const add = (c: Buffer) => {
      if (output.length < maxOutput) output += c.toString();
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    const timer = setTimeout(() => {
      kill();
      fail(new Error(`command ${JSON.stringify(command.join(' '))} timed out`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ exitCode: code ?? (signal ? 128 + (signalNumbers[signal] ?? 9) : 1), output: output.slice(0, maxOutput) });
    });
  });
}
