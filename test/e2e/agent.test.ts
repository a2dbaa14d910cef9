// Real containers: `nami server` and `nami agent` (runc) on this machine,
// a busybox image from Debian's busybox-static, pods created with real kubectl.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerSkipReason, deleteLink, eventually, KubectlRunner, kubectlOrSkip, linkExists, namiOk, startAgent, startNami, type RunningHollow, type RunningNami } from './harness.js';

const { kubectl, skip: noKubectl } = kubectlOrSkip('1.33');
const skip = noKubectl || containerSkipReason() || false;
const image = 'nami.dev/busybox:latest';

/** The body of GET / from host:port, or undefined when nothing answers yet. */
function httpGet(host: string, port: number): Promise<string | undefined> {
  return new Promise((done) => {
    const req = request({ host, port, path: '/', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => done(res.statusCode === 200 ? body : undefined));
    });
    req.on('error', () => done(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

describe('pods as runc containers on nami agent', { skip }, () => {
  let nami: RunningNami;
  let agent: RunningHollow;
  let k: KubectlRunner;
  let nodeDir: string;
  let agentArgs: string[];

  before(async () => {
    nami = await startNami();
    nodeDir = mkdtempSync(join(tmpdir(), 'nami-node-'));
    namiOk(['image', 'busybox', '--data-dir', nodeDir]);
    agentArgs = ['--data-dir', nodeDir, '--name', 'node-1', '--bridge', 'nami-e2e1', '--pod-cidr', '10.198.1.0/24'];
    agent = await startAgent(nami.kubeconfig, agentArgs);
    k = new KubectlRunner(kubectl!, nami.kubeconfig);
  });
  after(async () => {
    await k?.run(['delete', 'pods', '--all', '--wait=true', '--timeout=30s']);
    await agent?.stop();
    await nami?.stop();
    k?.cleanup();
    if (nodeDir) rmSync(nodeDir, { recursive: true, force: true });
    deleteLink('nami-e2e1');
  });

  const jsonpath = (pod: string, path: string) => k.ok(['get', 'pod', pod, '-o', `jsonpath=${path}`]);

  test('a pod runs to completion and reports its exit code', async () => {
    await k.ok(['run', 'ok', `--image=${image}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'sh', '-c', 'echo hello']);
    await eventually('ok to succeed', async () => ((await jsonpath('ok', '{.status.phase}')) === 'Succeeded' ? true : undefined), 60_000);
    assert.equal(await jsonpath('ok', '{.status.containerStatuses[0].state.terminated.reason}'), 'Completed');
    assert.match(await jsonpath('ok', '{.status.containerStatuses[0].containerID}'), /^runc:\/\/[0-9a-f]{64}$/);
    await k.ok(['run', 'addr', `--image=${image}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'sleep', '60']);
    const ip = await eventually('a running pod with an IP', async () => ((await jsonpath('addr', '{.status.phase}')) === 'Running' ? (await jsonpath('addr', '{.status.podIP}')) || undefined : undefined), 60_000);
    assert.match(ip, /^10\.198\.1\.\d+$/, 'the pod got an IP of the node\'s pod range');
    await k.ok(['delete', 'pod', 'addr', '--grace-period=1', '--wait=false']);
    await k.ok(['run', 'fails', `--image=${image}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'sh', '-c', 'exit 3']);
    await eventually('fails to fail', async () => ((await jsonpath('fails', '{.status.phase}')) === 'Failed' ? true : undefined), 60_000);
    assert.equal(await jsonpath('fails', '{.status.containerStatuses[0].state.terminated.exitCode}'), '3');
  });

  test('containers of one pod reach each other on 127.0.0.1', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'pair' },
      spec: {
        restartPolicy: 'Never',
        containers: [
          { name: 'server', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo pong | nc -l -p 8080'] },
          { name: 'client', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'for i in $(seq 50); do r=$(nc 127.0.0.1 8080 </dev/null) && [ "$r" = pong ] && exit 0; sleep 0.2; done; exit 1'] },
        ],
      },
    };
    await k.ok(['apply', '-f', k.writeFile('pair.json', JSON.stringify(pod))]);
    await eventually('the client to get its answer', async () => {
      const codes = await jsonpath('pair', '{range .status.containerStatuses[*]}{.name}={.state.terminated.exitCode}{" "}{end}');
      return /client=0/.test(codes) ? codes : undefined;
    }, 60_000);
  });

  test('a pod reads a ConfigMap as a volume and as env, and shares an emptyDir between its containers', async () => {
    await k.ok(['create', 'configmap', 'settings', '--from-literal=color=blue']);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'reader' },
      spec: {
        restartPolicy: 'Never',
        volumes: [{ name: 'cfg', configMap: { name: 'settings' } }, { name: 'shared', emptyDir: {} }],
        initContainers: [{ name: 'writer', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo from-init > /shared/note'], volumeMounts: [{ name: 'shared', mountPath: '/shared' }] }],
        containers: [
          {
            name: 'reader',
            image,
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', 'echo "file=$(cat /cfg/color) env=$COLOR pod=$POD note=$(cat /shared/note)"'],
            env: [
              { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'settings', key: 'color' } } },
              { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ],
            volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }, { name: 'shared', mountPath: '/shared' }],
          },
        ],
      },
    };
    await k.ok(['apply', '-f', k.writeFile('reader.json', JSON.stringify(pod))]);
    await eventually('reader to succeed', async () => ((await jsonpath('reader', '{.status.phase}')) === 'Succeeded' ? true : undefined), 60_000);
    assert.equal((await k.ok(['logs', 'reader'])).trim(), 'file=blue env=blue pod=reader note=from-init');
  });

  test('a ConfigMap change shows up in the mounted file', async () => {
    await k.ok(['create', 'configmap', 'live', '--from-literal=color=red']);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'watcher' },
      spec: {
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: 'cfg', configMap: { name: 'live' } }],
        containers: [{ name: 'watcher', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'while true; do cat /cfg/color; echo; sleep 0.5; done'], volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] }],
      },
    };
    await k.ok(['apply', '-f', k.writeFile('watcher.json', JSON.stringify(pod))]);
    await eventually('the first value', async () => (/^red$/m.test(await k.ok(['logs', 'watcher'])) ? true : undefined), 60_000);
    await k.ok(['patch', 'configmap', 'live', '--type=merge', '-p', '{"data":{"color":"green"}}']);
    await eventually('the new value in the file', async () => (/^green$/m.test(await k.ok(['logs', 'watcher', '--tail=5'])) ? true : undefined), 90_000);
    await k.ok(['delete', 'pod', 'watcher', '--wait=false']);
  });

  test('a Deployment of busybox httpd scales to 20 pods and every pod answers on its pod IP', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 20,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{ name: 'httpd', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www'] }],
          },
        },
      },
    };
    await k.ok(['apply', '-f', k.writeFile('web.json', JSON.stringify(deployment))]);
    await k.ok(['rollout', 'status', 'deployment/web', '--timeout=180s']);
    const rows = (await k.ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.podIP}{"\\n"}{end}'])).trim().split('\n');
    assert.equal(rows.length, 20);
    const ips = new Set<string>();
    for (const row of rows) {
      const [name, ip] = row.split(' ');
      assert.match(ip ?? '', /^10\.198\.1\.\d+$/, row);
      ips.add(ip!);
      // The host reaches each pod on its IP, and the pod answers with its own name.
      const body = await eventually(`${name} to answer on ${ip}`, () => httpGet(ip!, 8080), 30_000);
      assert.equal(body.trim(), name);
    }
    assert.equal(ips.size, 20, 'every pod has an IP of its own');
    await k.ok(['delete', 'deployment', 'web', '--wait=false']);
  });

  test('an agent restart keeps running pods as they were', async () => {
    await k.ok(['run', 'keeper', `--image=${image}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'sleep', '600']);
    const before = await eventually('keeper running', async () => ((await jsonpath('keeper', '{.status.phase}')) === 'Running' ? jsonpath('keeper', '{.status.containerStatuses[0].containerID} {.status.podIP} {.status.startTime}') : undefined), 60_000);
    await agent.stop();
    agent = await startAgent(nami.kubeconfig, agentArgs);
    // Give the restarted agent a moment to look at its pods; nothing about them may change.
    await eventually('the node Ready again', async () => ((await k.ok(['get', 'node', 'node-1', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True' ? true : undefined), 60_000);
    await k.ok(['run', 'after-restart', `--image=${image}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'true']);
    await eventually('a new pod to run on the restarted agent', async () => ((await jsonpath('after-restart', '{.status.phase}')) === 'Succeeded' ? true : undefined), 60_000);
    assert.equal(await jsonpath('keeper', '{.status.containerStatuses[0].containerID} {.status.podIP} {.status.startTime}'), before);
    assert.equal(await jsonpath('keeper', '{.status.containerStatuses[0].restartCount}'), '0');
    assert.equal(await jsonpath('keeper', '{.status.phase}'), 'Running');
    await k.ok(['delete', 'pod', 'keeper', '--grace-period=1', '--wait=false']);
  });

  test('probes: a failing exec liveness probe restarts the container; an httpGet readiness probe holds Ready until it passes', async () => {
    const live = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'live' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'live',
            image,
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', 'touch /tmp/healthy; sleep 3; rm -f /tmp/healthy; exec sleep 600'],
            livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 2 },
          },
        ],
      },
    };
    const ready = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'ready' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'web',
            image,
            imagePullPolicy: 'IfNotPresent',
            ports: [{ name: 'http', containerPort: 8080 }],
            command: ['sh', '-c', 'sleep 6; mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'],
            readinessProbe: { httpGet: { port: 'http', path: '/index.html' }, periodSeconds: 1 },
          },
        ],
      },
    };
    await k.ok(['apply', '-f', k.writeFile('live.json', JSON.stringify(live))]);
    await k.ok(['apply', '-f', k.writeFile('ready.json', JSON.stringify(ready))]);
    // Readiness: running but not Ready while httpd is not up yet.
    await eventually('ready to run', async () => ((await jsonpath('ready', '{.status.phase}')) === 'Running' ? true : undefined), 60_000);
    assert.equal(await jsonpath('ready', '{.status.conditions[?(@.type=="Ready")].status} {.status.containerStatuses[0].ready} {.status.containerStatuses[0].started}'), 'False false true');
    await eventually('ready to become Ready', async () => ((await jsonpath('ready', '{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="ContainersReady")].status} {.status.containerStatuses[0].ready}')) === 'True True true' ? true : undefined), 60_000);
    // Liveness: the file goes after 3 s, two failed probes later the container is killed and started again.
    const restarts = await eventually('live to be restarted', async () => {
      const n = Number(await jsonpath('live', '{.status.containerStatuses[0].restartCount}'));
      return n >= 1 ? n : undefined;
    }, 60_000);
    assert.ok(restarts >= 1);
    assert.equal(await jsonpath('live', '{.status.containerStatuses[0].lastState.terminated.exitCode}'), '137', 'killed (sh as pid 1 ignores SIGTERM)');
    const events = await eventually('the Unhealthy and Killing events', async () => {
      const out = await k.ok(['get', 'events', '--field-selector', 'involvedObject.name=live', '-o', 'jsonpath={range .items[*]}{.type} {.reason} {.message}{"\\n"}{end}']);
      return /Killing/.test(out) && /Unhealthy/.test(out) ? out : undefined;
    }, 30_000);
    assert.match(events, /^Warning Unhealthy Liveness probe failed: cat: can't open '\/tmp\/healthy': No such file or directory/m);
    assert.match(events, /^Normal Killing Container live failed liveness probe, will be restarted$/m);
    await k.ok(['delete', 'pod', 'live', 'ready', '--grace-period=1', '--wait=false']);
  });

  test('a memory hog over its limit is OOMKilled', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hog' },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'hog', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'head -c 200m /dev/zero | tail'], resources: { limits: { memory: '16Mi' } } }],
      },
    };
    await k.ok(['apply', '-f', k.writeFile('hog.json', JSON.stringify(pod))]);
    const reason = await eventually('the hog to be killed', async () => (await jsonpath('hog', '{.status.containerStatuses[0].state.terminated.reason}')) || undefined, 60_000);
    assert.equal(reason, 'OOMKilled');
  });
});

describe('nami up', { skip }, () => {
  test('brings up the control plane and this machine as a Ready node running runc containers', async () => {
    const nami = await startNami(['--bridge', 'nami-up1', '--pod-cidr', '10.198.31.0/24'], { command: 'up' });
    const k = new KubectlRunner(kubectl!, nami.kubeconfig);
    try {
      const nodes = await eventually('a Ready node', async () => {
        const out = await k.ok(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {.status.nodeInfo.containerRuntimeVersion}{"\\n"}{end}']);
        return /=True runc:\/\//.test(out) ? out : undefined;
      }, 60_000);
      assert.equal(nodes.trim().split('\n').length, 1);
      // The node says what the machine has: images held, its filesystem's size, memory less the eviction threshold.
      const node = JSON.parse(await k.ok(['get', 'nodes', '-o', 'json'])).items[0];
      const imageNames = (node.status.images as { names: string[] }[]).flatMap((i) => i.names);
      assert.ok(imageNames.includes('nami.dev/busybox:1'), `status.images lists the busybox image: ${imageNames.join(' ')}`);
      assert.ok(imageNames.some((n) => n.startsWith('nami.dev/busybox@sha256:')));
      assert.notEqual(node.status.capacity['ephemeral-storage'], '100Gi');
      assert.ok(parseInt(node.status.allocatable.memory, 10) < parseInt(node.status.capacity.memory, 10));
      assert.equal(node.status.conditions.find((c: { type: string }) => c.type === 'MemoryPressure').reason, 'KubeletHasSufficientMemory');
      await k.ok(['run', 'up-ok', `--image=${image}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'true']);
      await eventually('the pod to succeed', async () => ((await k.ok(['get', 'pod', 'up-ok', '-o', 'jsonpath={.status.phase}'])) === 'Succeeded' ? true : undefined), 60_000);
      await k.ok(['run', 'up-ip', `--image=${image}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'sleep', '30']);
      const ip = await eventually('a pod IP', async () => (await k.ok(['get', 'pod', 'up-ip', '-o', 'jsonpath={.status.podIP}'])) || undefined, 60_000);
      assert.match(ip, /^10\.198\.31\.\d+$/, 'the pod got an address of --pod-cidr');
      await k.ok(['delete', 'pod', 'up-ip', '--grace-period=1', '--wait=false']);
      assert.ok(linkExists('nami-up1'), 'the node\'s bridge is the one --bridge names');
      await k.ok(['delete', 'pod', 'up-ok', '--wait=true', '--timeout=30s']);
    } finally {
      await nami.stop();
      k.cleanup();
      deleteLink('nami-up1');
    }
  });
});
