// pods/log end to end in one process: the API server looks the pod and its
// node up and proxies to the node agent's containerLogs endpoint (client
// certificate, self-signed agent serving certificate), which reads the CRI log
// file the runtime names. The runtime is the fake one with log files the test writes.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/object.js';
import { FakeRuntime, localNodeConfig, startNodeAgent, type NodeAgentGroup } from '../../src/agent/index.js';
import { startKubeletServer, type RunningKubeletServer } from '../../src/agent/server/kubelet-server.js';
import { selfSignedServingCert } from '../../src/agent/server/serving-cert.js';
import { startTestApiServer, type TestApiServer } from '../apiserver/harness.js';
import { createBoundPod, eventually, getPod, podsIn } from './helpers.js';

class LoggingFakeRuntime extends FakeRuntime {
  constructor(readonly logDir: string) {
    super({ podCidr: '10.251.0.0/24' });
  }
  containerLogPath(uid: string, container: string, attempt: number): string {
    return join(this.logDir, uid, container, `${attempt}.log`);
  }
}

const cri = (lines: string[]) => lines.map((l, i) => `2024-01-02T03:04:0${i}.500000000Z stdout F ${l}\n`).join('');

describe('pods/log through the node agent', () => {
  let api: TestApiServer;
  let agent: NodeAgentGroup;
  let kubelet: RunningKubeletServer;
  let runtime: LoggingFakeRuntime;
  const logDir = mkdtempSync(join(tmpdir(), 'nami-podlogs-'));

  const writeLog = (uid: string, container: string, text: string, attempt = 0) => {
    mkdirSync(join(logDir, uid, container), { recursive: true });
    writeFileSync(join(logDir, uid, container, `${attempt}.log`), text);
  };
  const running = async (name: string) =>
    eventually(`${name} to run`, async () => {
      const pod = await getPod(api.client, 'default', name);
      return (pod?.status as { phase?: string } | undefined)?.phase === 'Running' ? pod : undefined;
    });

  before(async () => {
    api = await startTestApiServer();
    runtime = new LoggingFakeRuntime(logDir);
    const serving = selfSignedServingCert('logs-node', ['localhost'], ['127.0.0.1']);
    kubelet = await startKubeletServer({ runtime, clientCaPem: api.config.caPem!, ...serving, host: '127.0.0.1', port: 0 });
    const node = localNodeConfig({ name: 'logs-node', internalIP: '127.0.0.1', kubeletPort: kubelet.port, podCIDR: '10.251.0.0/24' });
    agent = await startNodeAgent(api.client, node, runtime, {});
  });

  after(async () => {
    await agent?.stop();
    await kubelet?.close();
    await api?.close();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('reports the agent port and address in the node status', async () => {
    const node = await api.client.get<KubeObject>({ group: '', version: 'v1', plural: 'nodes', name: 'logs-node' });
    const status = node.status as { daemonEndpoints: { kubeletEndpoint: { Port: number } }; addresses: { type: string; address: string }[] };
    assert.equal(status.daemonEndpoints.kubeletEndpoint.Port, kubelet.port);
    assert.deepEqual(status.addresses.find((a) => a.type === 'InternalIP'), { type: 'InternalIP', address: '127.0.0.1' });
  });

  it("serves a container's log with tailLines, timestamps and limitBytes", async () => {
    const pod = await createBoundPod(api.client, 'default', 'echo', 'logs-node');
    writeLog(pod.metadata.uid!, 'app', cri(['one', 'two', 'three']));
    await running('echo');
    const all = await api.raw('GET', '/api/v1/namespaces/default/pods/echo/log');
    assert.equal(all.status, 200);
    assert.equal(all.text, 'one\ntwo\nthree\n');
    assert.match(String(all.headers['content-type']), /^text\/plain/);
    assert.equal((await api.raw('GET', '/api/v1/namespaces/default/pods/echo/log?container=app&tailLines=1')).text, 'three\n');
    assert.equal((await api.raw('GET', '/api/v1/namespaces/default/pods/echo/log?tailLines=2&timestamps=true')).text, '2024-01-02T03:04:01.5Z two\n2024-01-02T03:04:02.5Z three\n');
    assert.equal((await api.raw('GET', '/api/v1/namespaces/default/pods/echo/log?limitBytes=5')).text, 'one\nt');
    const bad = await api.raw('GET', '/api/v1/namespaces/default/pods/echo/log?tailLines=-1');
    assert.equal(bad.status, 400);
  });

  it('asks for a container name in a pod of two, and reads the one named', async () => {
    const pod = await createBoundPod(api.client, 'default', 'pair', 'logs-node', { containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'nginx' }] });
    writeLog(pod.metadata.uid!, 'a', cri(['from a']));
    writeLog(pod.metadata.uid!, 'b', cri(['from b']));
    await running('pair');
    const none = await api.raw('GET', '/api/v1/namespaces/default/pods/pair/log');
    assert.equal(none.status, 400);
    assert.equal(none.json?.message, 'a container name must be specified for pod pair, choose one of: [a b]');
    assert.equal((await api.raw('GET', '/api/v1/namespaces/default/pods/pair/log?container=b')).text, 'from b\n');
    const wrong = await api.raw('GET', '/api/v1/namespaces/default/pods/pair/log?container=c');
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json?.message, 'container c is not valid for pod pair');
  });

  it('answers as Kubernetes for missing, unscheduled and waiting pods', async () => {
    const missing = await api.raw('GET', '/api/v1/namespaces/default/pods/nope/log');
    assert.equal(missing.status, 404);
    assert.equal(missing.json?.message, 'pods "nope" not found');
    await api.client.create(podsIn('default'), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pending' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } });
    const pending = await api.raw('GET', '/api/v1/namespaces/default/pods/pending/log');
    assert.equal(pending.status, 400);
    assert.equal(pending.json?.message, 'pod pending does not have a host assigned');
    await createBoundPod(api.client, 'default', 'elsewhere', 'no-such-node');
    const waiting = await api.raw('GET', '/api/v1/namespaces/default/pods/elsewhere/log');
    assert.equal(waiting.status, 400);
    assert.equal(waiting.json?.message, 'container "app" in pod "elsewhere" is waiting to start: ContainerCreating');
    const previous = await api.raw('GET', '/api/v1/namespaces/default/pods/echo/log?previous=true');
    assert.equal(previous.status, 400);
    assert.equal(previous.json?.message, 'previous terminated container "app" in pod "echo" not found');
  });

  it('streams new lines with follow=true', async () => {
    const pod = await createBoundPod(api.client, 'default', 'tail', 'logs-node');
    writeLog(pod.metadata.uid!, 'app', cri(['before']));
    await running('tail');
    const url = new URL(api.config.server);
    let out = '';
    const req = httpsRequest({ hostname: url.hostname, port: url.port, path: '/api/v1/namespaces/default/pods/tail/log?follow=true', ca: api.config.caPem, cert: api.config.certPem, key: api.config.keyPem, agent: false });
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    res.setEncoding('utf8');
    res.on('data', (c: string) => (out += c));
    res.on('error', () => undefined);
    await eventually('the first line', async () => out === 'before\n');
    appendFileSync(join(logDir, pod.metadata.uid!, 'app', '0.log'), '2024-01-02T03:05:00.000000000Z stdout F after\n');
    await eventually('the appended line', async () => out === 'before\nafter\n');
    req.destroy();
  });

  it('lets only clients with a certificate of the cluster CA in', async () => {
    const get = (auth: { cert?: string; key?: string }) =>
      new Promise<number>((resolve, reject) => {
        const r = httpsRequest({ hostname: '127.0.0.1', port: kubelet.port, path: '/containerLogs/default/echo/app', rejectUnauthorized: false, agent: false, ...auth }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        r.on('error', reject);
        r.end();
      });
    assert.equal(await get({}), 401);
    const stranger = selfSignedServingCert('stranger', [], []);
    assert.equal(await get({ cert: stranger.certPem, key: stranger.keyPem }), 401);
    assert.equal(await get({ cert: api.config.certPem, key: api.config.keyPem }), 200);
  });
});
