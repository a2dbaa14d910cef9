// The transport-independent parts of remotecommand: request options as the
// kubelet reads them, the error stream's content per protocol version (what
// client-go decodes into "command terminated with exit code N"), and resize
// messages split or joined anywhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorStreamMessage, remoteCommandOptions } from '../../../src/agent/server/streaming/remote-command.js';
import { parseTerminalSize, ResizeDecoder, type TerminalSize } from '../../../src/agent/server/streaming/resize.js';
import { expectedStreamTypes } from '../../../src/agent/server/streaming/spdy-remote-command.js';
import { negotiateWebSocketProtocol } from '../../../src/agent/server/streaming/websocket.js';

describe('remotecommand options', () => {
  it("reads the kubelet's input/output/error/tty and the API's names", () => {
    assert.deepEqual(remoteCommandOptions(new URLSearchParams('command=ls&command=-l&input=1&output=1&error=1'), true), { command: ['ls', '-l'], stdin: true, stdout: true, stderr: true, tty: false });
    assert.deepEqual(remoteCommandOptions(new URLSearchParams('command=sh&stdin=true&stdout=true'), true), { command: ['sh'], stdin: true, stdout: true, stderr: false, tty: false });
  });

  it('drops stderr with a terminal, as the kubelet does', () => {
    assert.equal(remoteCommandOptions(new URLSearchParams('command=sh&output=1&error=1&tty=1'), true).stderr, false);
  });

  it('refuses requests without streams, and exec without a command', () => {
    assert.throws(() => remoteCommandOptions(new URLSearchParams('command=ls'), true), /you must specify at least 1 of stdin, stdout, stderr/);
    assert.throws(() => remoteCommandOptions(new URLSearchParams('output=1'), true), /at least one command/);
    assert.equal(remoteCommandOptions(new URLSearchParams('output=1'), false).command.length, 0);
  });
});

describe('the error stream per protocol version', () => {
  const json = (b: Buffer | undefined) => JSON.parse(b!.toString()) as Record<string, unknown>;

  it('v4 and v5 carry a Status: Success, or NonZeroExitCode with the code as an ExitCode cause', () => {
    for (const p of ['v4.channel.k8s.io', 'v5.channel.k8s.io']) {
      assert.deepEqual(json(errorStreamMessage(p, { exitCode: 0 })), { metadata: {}, status: 'Success' });
      const failed = json(errorStreamMessage(p, { exitCode: 42 }));
      assert.equal(failed.status, 'Failure');
      assert.equal(failed.reason, 'NonZeroExitCode');
      assert.deepEqual(failed.details, { causes: [{ reason: 'ExitCode', message: '42' }] });
    }
  });

  it('v4 reports a command that could not run as an InternalError', () => {
    const s = json(errorStreamMessage('v4.channel.k8s.io', { error: 'no such file' }));
    assert.equal(s.reason, 'InternalError');
    assert.equal(s.code, 500);
    assert.equal(s.message, 'Internal error occurred: no such file');
  });

  it('v1 to v3 write nothing on success and text on failure', () => {
    for (const p of ['channel.k8s.io', 'v2.channel.k8s.io', 'v3.channel.k8s.io']) {
      assert.equal(errorStreamMessage(p, { exitCode: 0 }), undefined);
      assert.equal(errorStreamMessage(p, { exitCode: 2 })!.toString(), 'command terminated with non-zero exit code: exit status 2');
    }
  });
});

describe('stream and protocol negotiation', () => {
  it('SPDY waits for error, the asked streams, and resize only with a terminal from v3 on', () => {
    const opts = { command: ['sh'], stdin: true, stdout: true, stderr: false, tty: true };
    assert.deepEqual(expectedStreamTypes('v4.channel.k8s.io', opts), ['error', 'stdin', 'stdout', 'resize']);
    assert.deepEqual(expectedStreamTypes('v2.channel.k8s.io', opts), ['error', 'stdin', 'stdout']);
    assert.deepEqual(expectedStreamTypes('v4.channel.k8s.io', { ...opts, stdin: false, tty: false, stderr: true }), ['error', 'stdout', 'stderr']);
  });

  it("WebSocket takes the client's first protocol it speaks", () => {
    assert.equal(negotiateWebSocketProtocol(['v5.channel.k8s.io', 'v4.channel.k8s.io']), 'v5.channel.k8s.io');
    assert.equal(negotiateWebSocketProtocol(['base64.channel.k8s.io', 'v4.channel.k8s.io']), 'v4.channel.k8s.io');
    assert.equal(negotiateWebSocketProtocol(['SPDY/3.1+portforward.k8s.io']), undefined);
  });
});

describe('resize messages', () => {
  it('parses client-go TerminalSize JSON and rejects anything else', () => {
    assert.deepEqual(parseTerminalSize('{"Width":120,"Height":40}'), { width: 120, height: 40 });
    assert.equal(parseTerminalSize('{"Width":-1,"Height":40}'), undefined);
    assert.equal(parseTerminalSize('{"Width":"a","Height":40}'), undefined);
    assert.equal(parseTerminalSize('not json'), undefined);
  });

  it('decodes messages split and joined anywhere, skipping bad ones', () => {
    const sizes: TerminalSize[] = [];
    const d = new ResizeDecoder((s) => sizes.push(s));
    d.push('{"Width":80,"Hei');
    d.push('ght":24}\n{"Width":100,"Height":30}\n{"Width":"x"}\n{"Wid');
    d.push(Buffer.from('th":120,"Height":40}\n'));
    assert.deepEqual(sizes, [
      { width: 80, height: 24 },
      { width: 100, height: 30 },
      { width: 120, height: 40 },
    ]);
  });
});
