// The variables services give a pod's containers, as the kubelet makes them
// (getServiceEnvVarMap, envvars.FromServices), and how they meet the
// container's own env.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerEnv, serviceEnvVars } from '../../../src/agent/runtimes/container-env.js';

const service = (namespace: string, name: string, clusterIP: string, ports: Record<string, unknown>[]) => ({ metadata: { namespace, name }, spec: { clusterIP, ports } });
const master = service('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);
const web = service('shop', 'web-front', '10.96.7.8', [{ port: 80 }, { name: 'metrics', port: 9090, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }]);
const headless = service('shop', 'db', 'None', [{ port: 5432 }]);
const external = service('shop', 'ext', '', [{ port: 443 }]);
const elsewhere = service('other', 'api', '10.96.9.9', [{ port: 8080 }]);

describe('service environment variables', () => {
  it('names host, ports and Docker link variables for each service of the namespace', () => {
    const vars = serviceEnvVars('shop', true, [master, web, headless, external, elsewhere]);
    assert.deepEqual(Object.fromEntries([...vars].filter(([k]) => k.startsWith('WEB_FRONT_'))), {
      WEB_FRONT_SERVICE_HOST: '10.96.7.8',
      WEB_FRONT_SERVICE_PORT: '80',
      WEB_FRONT_SERVICE_PORT_METRICS: '9090',
      WEB_FRONT_SERVICE_PORT_DNS: '53',
      WEB_FRONT_PORT: 'tcp://10.96.7.8:80',
      WEB_FRONT_PORT_80_TCP: 'tcp://10.96.7.8:80',
      WEB_FRONT_PORT_80_TCP_PROTO: 'tcp',
      WEB_FRONT_PORT_80_TCP_PORT: '80',
      WEB_FRONT_PORT_80_TCP_ADDR: '10.96.7.8',
      WEB_FRONT_PORT_9090_TCP: 'tcp://10.96.7.8:9090',
      WEB_FRONT_PORT_9090_TCP_PROTO: 'tcp',
      WEB_FRONT_PORT_9090_TCP_PORT: '9090',
      WEB_FRONT_PORT_9090_TCP_ADDR: '10.96.7.8',
      WEB_FRONT_PORT_53_UDP: 'udp://10.96.7.8:53',
      WEB_FRONT_PORT_53_UDP_PROTO: 'udp',
      WEB_FRONT_PORT_53_UDP_PORT: '53',
      WEB_FRONT_PORT_53_UDP_ADDR: '10.96.7.8',
    });
    assert.equal(vars.get('KUBERNETES_SERVICE_HOST'), '10.96.0.1');
    assert.equal(vars.get('KUBERNETES_SERVICE_PORT_HTTPS'), '443');
    assert.equal(vars.get('KUBERNETES_PORT'), 'tcp://10.96.0.1:443');
    assert.ok(![...vars.keys()].some((k) => k.startsWith('DB_') || k.startsWith('EXT_') || k.startsWith('API_')), 'headless, ExternalName and other namespaces give none');
  });

  it('without service links, only the API server\'s own service', () => {
    const vars = serviceEnvVars('shop', false, [master, web]);
    assert.deepEqual([...vars.keys()].filter((k) => !k.startsWith('KUBERNETES_')), []);
    assert.equal(vars.get('KUBERNETES_SERVICE_HOST'), '10.96.0.1');
  });

  it('a service named kubernetes in the pod\'s namespace wins over the default one', () => {
    const own = service('shop', 'kubernetes', '10.96.3.3', [{ port: 8443 }]);
    assert.equal(serviceEnvVars('shop', true, [master, own]).get('KUBERNETES_SERVICE_HOST'), '10.96.3.3');
    assert.equal(serviceEnvVars('shop', true, [own, master]).get('KUBERNETES_SERVICE_HOST'), '10.96.3.3');
  });

  it('a container\'s own env overrides them, and $(VAR) may name them', () => {
    const serviceEnv = serviceEnvVars('shop', true, [master, web]);
    const pod = { metadata: { name: 'p', namespace: 'shop' }, spec: {} };
    const { vars } = containerEnv({ env: [{ name: 'WEB_FRONT_SERVICE_PORT', value: '8000' }, { name: 'URL', value: 'http://$(WEB_FRONT_SERVICE_HOST):$(WEB_FRONT_SERVICE_PORT)' }] }, { Env: ['KUBERNETES_PORT=image'] }, 'h', { pod, serviceEnv });
    assert.equal(vars.get('WEB_FRONT_SERVICE_PORT'), '8000');
    assert.equal(vars.get('URL'), 'http://10.96.7.8:8000');
    assert.equal(vars.get('WEB_FRONT_SERVICE_HOST'), '10.96.7.8');
    assert.equal(vars.get('KUBERNETES_PORT'), 'tcp://10.96.0.1:443', 'over the image\'s env, as the runtime takes the pod\'s');
  });
});
