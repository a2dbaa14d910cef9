// Real containers: `nami server` and `nami agent` (runc) on this machine,
// a busybox image from Debian's busybox-static, pods created with real
// kubectl 1.20, 1.27 and 1.33 (each scenario with each, on pods of its own).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerSkipReason, deleteLink, eventually, KubectlRunner, kubectlOrSkip, linkExists, namiOk, startAgent, startNami, type RunningHollow, type RunningNami } from './harness.js';

const versions = ['1.20', '1.27', '1.33'] as const;
const found = versions.map((v) => kubectlOrSkip(v));
const kubectl = found[2]!.kubectl;
const skip = found.find((f) => f.skip)?.skip || containerSkipReason() || false;
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

describe('pods as runc containers on nami agent, driven by kubectl 1.20, 1.27 and 1.33', { skip }, () => {
  let nami: RunningNami;
  let agent: RunningHollow;
  /** One runner per kubectl version; `k` is the newest, for setup and cleanup. */
  let runners: { v: string; tag: string; k: KubectlRunner }[];
  let k: KubectlRunner;
  let nodeDir: string;
  let agentArgs: string[];

  before(async () => {
    nami = await startNami();
    nodeDir = mkdtempSync(join(tmpdir(), 'nami-node-'));
    namiOk(['image', 'busybox', '--data-dir', nodeDir]);
    agentArgs = ['--data-dir', nodeDir, '--name', 'node-1', '--bridge', 'nami-e2e1', '--pod-cidr', '10.198.1.0/24'];
    agent = await startAgent(nami.kubeconfig, agentArgs);
    runners = found.map((f) => ({ v: f.kubectl!.version, tag: f.kubectl!.version.replace('.', ''), k: new KubectlRunner(f.kubectl!, nami.kubeconfig) }));
    k = runners[runners.length - 1]!.k;
  });
  after(async () => {
    await k?.run(['delete', 'pods', '--all', '--wait=true', '--timeout=30s']);
    await agent?.stop();
    await nami?.stop();
    for (const r of runners ?? []) r.k.cleanup();
    if (nodeDir) rmSync(nodeDir, { recursive: true, force: true });
    deleteLink('nami-e2e1');
  });

  /** Runs one scenario with every kubectl version at once, each on pods named with its tag (120, 127, 133). */
  const eachKubectl = (fn: (k: KubectlRunner, tag: string) => Promise<void>) => Promise.all(runners.map((r) => fn(r.k, r.tag).catch((e: Error) => Promise.reject(new Error(`kubectl ${r.v}: ${e.message}`)))));
  const jsonpath = (k: KubectlRunner, pod: string, path: string) => k.ok(['get', 'pod', pod, '-o', `jsonpath=${path}`]);

  test('a pod runs to completion and reports its exit code', async () => {
    await eachKubectl(async (k, tag) => {
      await k.ok(['run', `ok-${tag}`, `--image=${image}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'sh', '-c', 'echo hello']);
      await eventually('ok to succeed', async () => ((await jsonpath(k, `ok-${tag}`, '{.status.phase}')) === 'Succeeded' ? true : undefined), 60_000);
      assert.equal(await jsonpath(k, `ok-${tag}`, '{.status.containerStatuses[0].state.terminated.reason}'), 'Completed');
      assert.match(await jsonpath(k, `ok-${tag}`, '{.status.containerStatuses[0].containerID}'), /^runc:\/\/[0-9a-f]{64}$/);
      await k.ok(['run', `addr-${tag}`, `--image=${image}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'sleep', '60']);
      const ip = await eventually('a running pod with an IP', async () => ((await jsonpath(k, `addr-${tag}`, '{.status.phase}')) === 'Running' ? (await jsonpath(k, `addr-${tag}`, '{.status.podIP}')) || undefined : undefined), 60_000);
      assert.match(ip, /^10\.198\.1\.\d+$/, 'the pod got an IP of the node\'s pod range');
      await k.ok(['delete', 'pod', `addr-${tag}`, '--grace-period=1', '--wait=false']);
      await k.ok(['run', `fails-${tag}`, `--image=${image}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'sh', '-c', 'exit 3']);
      await eventually('fails to fail', async () => ((await jsonpath(k, `fails-${tag}`, '{.status.phase}')) === 'Failed' ? true : undefined), 60_000);
      assert.equal(await jsonpath(k, `fails-${tag}`, '{.status.containerStatuses[0].state.terminated.exitCode}'), '3');
    });
  });

  test('an app container reaches a cache and a database container of its pod on 127.0.0.1', async () => {
    await eachKubectl(async (k, tag) => {
      const serve = (reply: string, port: number) => ['sh', '-c', `while true; do echo ${reply} | nc -l -p ${port}; done`];
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `app-${tag}` },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            { name: 'cache', image, imagePullPolicy: 'IfNotPresent', command: serve('cached', 6379) },
            { name: 'db', image, imagePullPolicy: 'IfNotPresent', command: serve('rows', 5432) },
            {
              name: 'app',
              image,
              imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', 'until c=$(nc 127.0.0.1 6379 </dev/null) && d=$(nc 127.0.0.1 5432 </dev/null) && [ -n "$c" ] && [ -n "$d" ]; do sleep 0.2; done; echo "cache=$c db=$d"; exec sleep 600'],
            },
          ],
        },
      };
      await k.ok(['apply', '-f', k.writeFile(`app-${tag}.json`, JSON.stringify(pod))]);
      const line = await eventually('the app to reach both', async () => (await k.ok(['logs', `app-${tag}`, '-c', 'app'])).trim() || undefined, 60_000);
      assert.equal(line, 'cache=cached db=rows');
      await k.ok(['delete', 'pod', `app-${tag}`, '--wait=false']);
    });
  });

  test('init containers run first; a pod reads a ConfigMap as a volume and as env, and shares an emptyDir between its containers', async () => {
    await k.ok(['create', 'configmap', 'settings', '--from-literal=color=blue']);
    await eachKubectl(async (k, tag) => {
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `reader-${tag}` },
        spec: {
          restartPolicy: 'Never',
          volumes: [{ name: 'cfg', configMap: { name: 'settings' } }, { name: 'shared', emptyDir: {} }],
          initContainers: [
            { name: 'first', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo first > /shared/order'], volumeMounts: [{ name: 'shared', mountPath: '/shared' }] },
            { name: 'second', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo second >> /shared/order'], volumeMounts: [{ name: 'shared', mountPath: '/shared' }] },
          ],
          containers: [
            {
              name: 'reader',
              image,
              imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', 'echo "file=$(cat /cfg/color) env=$COLOR pod=$POD order=$(cat /shared/order | tr "\\n" ,)"'],
              env: [
                { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'settings', key: 'color' } } },
                { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              ],
              volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }, { name: 'shared', mountPath: '/shared' }],
            },
          ],
        },
      };
      await k.ok(['apply', '-f', k.writeFile(`reader-${tag}.json`, JSON.stringify(pod))]);
      await eventually('reader to succeed', async () => ((await jsonpath(k, `reader-${tag}`, '{.status.phase}')) === 'Succeeded' ? true : undefined), 60_000);
      assert.equal((await k.ok(['logs', `reader-${tag}`])).trim(), `file=blue env=blue pod=reader-${tag} order=first,second,`);
      assert.equal(await jsonpath(k, `reader-${tag}`, '{range .status.initContainerStatuses[*]}{.name}={.state.terminated.reason} {end}'), 'first=Completed second=Completed ');
    });
  });

  test('a ConfigMap change shows up in the mounted file', async () => {
    await k.ok(['create', 'configmap', 'live', '--from-literal=color=red']);
    await eachKubectl(async (k, tag) => {
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `watcher-${tag}` },
        spec: {
          terminationGracePeriodSeconds: 1,
          volumes: [{ name: 'cfg', configMap: { name: 'live' } }],
          containers: [{ name: 'watcher', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'while true; do cat /cfg/color; echo; sleep 0.5; done'], volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] }],
        },
      };
      await k.ok(['apply', '-f', k.writeFile(`watcher-${tag}.json`, JSON.stringify(pod))]);
      await eventually('the first value', async () => (/^red$/m.test(await k.ok(['logs', `watcher-${tag}`])) ? true : undefined), 60_000);
    });
    await k.ok(['patch', 'configmap', 'live', '--type=merge', '-p', '{"data":{"color":"green"}}']);
    await eachKubectl(async (k, tag) => {
      await eventually('the new value in the file', async () => (/^green$/m.test(await k.ok(['logs', `watcher-${tag}`, '--tail=5'])) ? true : undefined), 90_000);
      await k.ok(['delete', 'pod', `watcher-${tag}`, '--wait=false']);
    });
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
    await runners[0]!.k.ok(['apply', '-f', runners[0]!.k.writeFile('web.json', JSON.stringify(deployment))]);
    await eachKubectl(async (k) => {
      await k.ok(['rollout', 'status', 'deployment/web', '--timeout=180s']);
    });
    await eachKubectl(async (k) => {
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
    });
    await k.ok(['delete', 'deployment', 'web', '--wait=false']);
  });

  test('an agent restart keeps running pods as they were', async () => {
    const before = new Map<string, string>();
    await eachKubectl(async (k, tag) => {
      await k.ok(['run', `keeper-${tag}`, `--image=${image}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'sleep', '600']);
      const seen = await eventually('keeper running', async () => ((await jsonpath(k, `keeper-${tag}`, '{.status.phase}')) === 'Running' ? jsonpath(k, `keeper-${tag}`, '{.status.containerStatuses[0].containerID} {.status.podIP} {.status.startTime}') : undefined), 60_000);
      before.set(tag, seen);
    });
    await agent.stop();
    agent = await startAgent(nami.kubeconfig, agentArgs);
    // Give the restarted agent a moment to look at its pods; nothing about them may change.
    await eventually('the node Ready again', async () => ((await k.ok(['get', 'node', 'node-1', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True' ? true : undefined), 60_000);
    await k.ok(['run', 'after-restart', `--image=${image}`, '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'true']);
    await eventually('a new pod to run on the restarted agent', async () => ((await jsonpath(k, 'after-restart', '{.status.phase}')) === 'Succeeded' ? true : undefined), 60_000);
    await eachKubectl(async (k, tag) => {
      assert.equal(await jsonpath(k, `keeper-${tag}`, '{.status.containerStatuses[0].containerID} {.status.podIP} {.status.startTime}'), before.get(tag));
      assert.equal(await jsonpath(k, `keeper-${tag}`, '{.status.containerStatuses[0].restartCount}'), '0');
      assert.equal(await jsonpath(k, `keeper-${tag}`, '{.status.phase}'), 'Running');
      await k.ok(['delete', 'pod', `keeper-${tag}`, '--grace-period=1', '--wait=false']);
    });
  });

  test('probes: a failing exec liveness probe restarts the container; an httpGet readiness probe holds Ready until it passes', async () => {
    await eachKubectl(async (k, tag) => {
      const live = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `live-${tag}` },
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
        metadata: { name: `ready-${tag}` },
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
      await k.ok(['apply', '-f', k.writeFile(`live-${tag}.json`, JSON.stringify(live))]);
      await k.ok(['apply', '-f', k.writeFile(`ready-${tag}.json`, JSON.stringify(ready))]);
      // Readiness: running but not Ready while httpd is not up yet.
      await eventually('ready to run', async () => ((await jsonpath(k, `ready-${tag}`, '{.status.phase}')) === 'Running' ? true : undefined), 60_000);
      assert.equal(await jsonpath(k, `ready-${tag}`, '{.status.conditions[?(@.type=="Ready")].status} {.status.containerStatuses[0].ready} {.status.containerStatuses[0].started}'), 'False false true');
      await eventually('ready to become Ready', async () => ((await jsonpath(k, `ready-${tag}`, '{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="ContainersReady")].status} {.status.containerStatuses[0].ready}')) === 'True True true' ? true : undefined), 60_000);
      // Liveness: the file goes after 3 s, two failed probes later the container is killed and started again.
      const restarts = await eventually('live to be restarted', async () => {
        const n = Number(await jsonpath(k, `live-${tag}`, '{.status.containerStatuses[0].restartCount}'));
        return n >= 1 ? n : undefined;
      }, 60_000);
      assert.ok(restarts >= 1);
      assert.equal(await jsonpath(k, `live-${tag}`, '{.status.containerStatuses[0].lastState.terminated.exitCode}'), '137', 'killed (sh as pid 1 ignores SIGTERM)');
      const events = await eventually('the Unhealthy and Killing events', async () => {
        const out = await k.ok(['get', 'events', '--field-selector', `involvedObject.name=live-${tag}`, '-o', 'jsonpath={range .items[*]}{.type} {.reason} {.message}{"\\n"}{end}']);
        return /Killing/.test(out) && /Unhealthy/.test(out) ? out : undefined;
      }, 30_000);
      assert.match(events, /^Warning Unhealthy Liveness probe failed: cat: can't open '\/tmp\/healthy': No such file or directory/m);
      assert.match(events, /^Normal Killing Container live failed liveness probe, will be restarted$/m);
      await k.ok(['delete', 'pod', `live-${tag}`, `ready-${tag}`, '--grace-period=1', '--wait=false']);
    });
  });

  test('a memory hog over its limit is OOMKilled', async () => {
    await eachKubectl(async (k, tag) => {
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `hog-${tag}` },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'hog', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'head -c 200m /dev/zero | tail'], resources: { limits: { memory: '16Mi' } } }],
        },
      };
      await k.ok(['apply', '-f', k.writeFile(`hog-${tag}.json`, JSON.stringify(pod))]);
      const reason = await eventually('the hog to be killed', async () => (await jsonpath(k, `hog-${tag}`, '{.status.containerStatuses[0].state.terminated.reason}')) || undefined, 60_000);
      assert.equal(reason, 'OOMKilled');
    });
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
