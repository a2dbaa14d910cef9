// `nami server --token-auth-file` driven by real kubectl 1.20, 1.27 and 1.33
// with bearer tokens only: `--token`, and a kubeconfig whose user has nothing
// but a token (the cluster CA from certificate-authority); the tokens of the
// file, and service account tokens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { eventually, KubectlRunner, kubectlOrSkip, namiBin, startControllers, startNami, type RunningNami } from './harness.js';

const versions = ['1.20', '1.27', '1.33'];

const dir = mkdtempSync(join(tmpdir(), 'nami-e2e-tokens-'));
const tokenFile = join(dir, 'tokens.csv');
writeFileSync(tokenFile, 'alice-s3cret,alice,1001,"developers,system:masters"\n\nbob-s3cret,bob-old,999\nbob-s3cret,bob,1002\n');

let nami: RunningNami;
before(async () => {
  nami = await startNami(['--token-auth-file', tokenFile]);
});
after(async () => {
  await nami?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A kubeconfig with the cluster's address and CA file, and a user that has only `token` (or nothing, for --token). */
function tokenKubeconfig(name: string, token?: string, server: RunningNami = nami): string {
  const path = join(dir, `${name}.kubeconfig`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'nami', cluster: { server: server.url, 'certificate-authority': join(server.dataDir, 'pki', 'ca.crt') } }],
    users: [{ name, user: token === undefined ? {} : { token } }],
    contexts: [{ name, context: { cluster: 'nami', user: name, namespace: 'default' } }],
    'current-context': name,
  };
  writeFileSync(path, JSON.stringify(config));
  return path;
}

for (const version of versions) {
  const { kubectl, skip } = kubectlOrSkip(version);
  describe(`kubectl ${version} with bearer tokens`, { skip }, () => {
    const suffix = version.replace('.', '-');
    let withToken: KubectlRunner;
    let noCredential: KubectlRunner;
    before(() => {
      withToken = new KubectlRunner(kubectl!, tokenKubeconfig(`alice-${suffix}`, 'alice-s3cret'));
      noCredential = new KubectlRunner(kubectl!, tokenKubeconfig(`nobody-${suffix}`));
    });
    after(() => {
      withToken?.cleanup();
      noCredential?.cleanup();
    });

    test('a kubeconfig with only a token creates and gets a ConfigMap', async () => {
      const name = `by-kubeconfig-${suffix}`;
      assert.match(await withToken.ok(['create', 'configmap', name, '--from-literal=who=alice']), new RegExp(`configmap/${name} created`));
      const cm = JSON.parse(await withToken.ok(['get', 'configmap', name, '-o', 'json'])) as { data: Record<string, string> };
      assert.deepEqual(cm.data, { who: 'alice' });
    });

    test('--token creates and gets a ConfigMap', async () => {
      const name = `by-flag-${suffix}`;
      assert.match(await noCredential.ok(['--token', 'bob-s3cret', 'create', 'configmap', name, '--from-literal=who=bob']), new RegExp(`configmap/${name} created`));
      const out = await noCredential.ok(['--token', 'bob-s3cret', 'get', 'configmap', name, '-o', 'jsonpath={.data.who}']);
      assert.equal(out, 'bob');
    });

    test('auth whoami names the token\'s user, and auth can-i answers yes', async () => {
      // `auth whoami` came in kubectl 1.26, and 1.27 asks only for the beta API, which a 1.33 server does not serve.
      if (version === '1.33') {
        const who = await withToken.ok(['auth', 'whoami', '-o', 'json']);
        const review = JSON.parse(who) as { kind: string; status: { userInfo: { username: string; uid: string; groups: string[] } } };
        assert.equal(review.kind, 'SelfSubjectReview');
        assert.deepEqual(review.status.userInfo, { username: 'alice', uid: '1001', groups: ['developers', 'system:masters', 'system:authenticated'] });
      }
      assert.equal((await noCredential.ok(['--token', 'bob-s3cret', 'auth', 'can-i', 'delete', 'pods'])).trim(), 'yes');
    });

    test('a service account token (kubectl create token, or a TokenRequest from 1.20) is a credential until its account goes', async () => {
      const account = `builder-${suffix}`;
      await withToken.ok(['create', 'serviceaccount', account]);
      let token: string;
      if (version === '1.20') {
        // `kubectl create token` came in 1.24; 1.20 posts the TokenRequest itself.
        const body = withToken.writeFile('token-request.json', JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 1200 } }));
        const answer = JSON.parse(await withToken.ok(['create', '--raw', `/api/v1/namespaces/default/serviceaccounts/${account}/token`, '-f', body])) as { status: { token: string } };
        token = answer.status.token;
      } else {
        token = (await withToken.ok(['create', 'token', account, '--duration', '20m'])).trim();
      }
      assert.equal(await noCredential.ok(['--token', token, 'get', 'serviceaccount', account, '-o', 'jsonpath={.metadata.name}']), account);
      if (version === '1.33') {
        const who = JSON.parse(await noCredential.ok(['--token', token, 'auth', 'whoami', '-o', 'json'])) as { status: { userInfo: { username: string; groups: string[] } } };
        assert.equal(who.status.userInfo.username, `system:serviceaccount:default:${account}`);
        assert.deepEqual(who.status.userInfo.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
      }
      await withToken.ok(['delete', 'serviceaccount', account]);
      const after = await noCredential.run(['--token', token, 'get', 'configmaps']);
      assert.notEqual(after.code, 0);
      assert.match(after.stderr, /error: You must be logged in to the server \(Unauthorized\)/);
    });

    test('a service account token Secret made with kubectl apply is filled by the controllers, and its token is a credential until the Secret goes', async () => {
      const account = `legacy-${suffix}`;
      await withToken.ok(['create', 'serviceaccount', account]);
      const manifest = withToken.writeFile(
        'legacy-token.yaml',
        `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${account}-token\n  annotations:\n    kubernetes.io/service-account.name: ${account}\ntype: kubernetes.io/service-account-token\n`,
      );
      assert.match(await withToken.ok(['apply', '-f', manifest]), new RegExp(`secret/${account}-token created`));
      const encoded = await eventually('the token in the Secret', async () => (await withToken.ok(['get', 'secret', `${account}-token`, '-o', 'jsonpath={.data.token}'])) || undefined);
      const token = Buffer.from(encoded, 'base64').toString('utf8');
      const described = await withToken.ok(['describe', 'secret', `${account}-token`]);
      assert.match(described, new RegExp(`kubernetes.io/service-account.name: ${account}`));
      assert.match(described, /Type:\s+kubernetes.io\/service-account-token/);
      assert.match(described, /ca.crt:\s+\d+ bytes/);
      assert.equal(await noCredential.ok(['--token', token, 'get', 'serviceaccount', account, '-o', 'jsonpath={.metadata.name}']), account);
      if (version === '1.33') {
        const who = JSON.parse(await noCredential.ok(['--token', token, 'auth', 'whoami', '-o', 'json'])) as { status: { userInfo: { username: string } } };
        assert.equal(who.status.userInfo.username, `system:serviceaccount:default:${account}`);
      }
      await withToken.ok(['delete', 'secret', `${account}-token`]);
      const after = await noCredential.run(['--token', token, 'get', 'configmaps']);
      assert.notEqual(after.code, 0);
      assert.match(after.stderr, /error: You must be logged in to the server \(Unauthorized\)/);
    });

    test('a wrong token gets kubectl\'s Unauthorized error', async () => {
      const r = await noCredential.run(['--token', 'wrong', 'get', 'configmaps']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /error: You must be logged in to the server \(Unauthorized\)/);
      const wrong = new KubectlRunner(kubectl!, tokenKubeconfig(`wrong-${suffix}`, 'wrong'));
      try {
        const viaKubeconfig = await wrong.run(['create', 'configmap', `never-${suffix}`]);
        assert.notEqual(viaKubeconfig.code, 0);
        assert.match(viaKubeconfig.stderr, /error: .*Unauthorized/);
      } finally {
        wrong.cleanup();
      }
    });
  });
}

describe('a bad token file', () => {
  test('stops nami server at start with the file and line', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'alice-s3cret,alice,1001\nbob-s3cret,bob\n');
    const dataDir = mkdtempSync(join(tmpdir(), 'nami-e2e-badtokens-'));
    try {
      await assert.rejects(startNami(['--token-auth-file', bad], { dataDir }), (err: Error) => {
        assert.match(err.message, /exited with 1/);
        assert.ok(err.message.includes(`nami: token file ${bad}, line 2: must have at least 3 columns (token, user name, user uid), found 2`), err.message);
        return true;
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

const latest = kubectlOrSkip('1.33');
describe('--disable-admission-plugins', { skip: latest.skip }, () => {
  test('switches the ServiceAccount plugin off, and names what it can switch off when given another', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'nami-e2e-admission-'));
    try {
      await assert.rejects(startNami(['--disable-admission-plugins', 'ServiceAccount,NamespaceLifecycle'], { dataDir }), (err: Error) => {
        assert.ok(err.message.includes('--disable-admission-plugins: unknown or required plugin "NamespaceLifecycle" (Nami can switch off: ServiceAccount)'), err.message);
        return true;
      });
      const plain = await startNami(['--disable-admission-plugins', 'ServiceAccount'], { dataDir });
      const k = new KubectlRunner(latest.kubectl!, plain.kubeconfig);
      try {
        await k.ok(['create', 'namespace', 'no-accounts']);
        // The account is not looked for, and no token is mounted.
        await k.ok(['-n', 'no-accounts', 'run', 'bare', '--image', 'busybox', '--restart', 'Never', '--overrides', '{"spec":{"serviceAccountName":"missing"}}']);
        assert.equal(await k.ok(['-n', 'no-accounts', 'get', 'pod', 'bare', '-o', 'jsonpath={.spec.volumes}']), '');
      } finally {
        k.cleanup();
        await plain.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('nami controllers --service-account-private-key-file', { skip: latest.skip }, () => {
  test('fills token Secrets from a controller manager of its own, and a file that is no key stops it at once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'nami-e2e-controllers-'));
    const server = await startNami(['--no-controllers'], { dataDir });
    const k = new KubectlRunner(latest.kubectl!, server.kubeconfig);
    try {
      const bad = spawnSync(process.execPath, [namiBin, 'controllers', '--kubeconfig', server.kubeconfig, '--service-account-private-key-file', server.kubeconfig], { encoding: 'utf8' });
      assert.notEqual(bad.status, 0);
      assert.ok(bad.stderr.includes(`nami: --service-account-private-key-file ${server.kubeconfig}: not a readable private key in PEM`), bad.stderr);
      const controllers = await startControllers(server.kubeconfig, ['--service-account-private-key-file', join(dataDir, 'pki', 'sa.key')]);
      try {
        await k.ok(['create', 'serviceaccount', 'remote']);
        const manifest = k.writeFile('remote-token.yaml', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: remote-token\n  annotations:\n    kubernetes.io/service-account.name: remote\ntype: kubernetes.io/service-account-token\n');
        await k.ok(['apply', '-f', manifest]);
        const encoded = await eventually('the token in the Secret', async () => (await k.ok(['get', 'secret', 'remote-token', '-o', 'jsonpath={.data.token}'])) || undefined, 30_000);
        const token = Buffer.from(encoded, 'base64').toString('utf8');
        const asAccount = new KubectlRunner(latest.kubectl!, tokenKubeconfig('remote', token, server));
        try {
          assert.equal(await asAccount.ok(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']), 'system:serviceaccount:default:remote');
        } finally {
          asAccount.cleanup();
        }
      } finally {
        await controllers.stop();
      }
    } finally {
      k.cleanup();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

test('a duplicate token is a warning on stderr naming the file and both lines', () => {
  assert.ok(nami.stderr().includes(`nami: warning: token file ${tokenFile}, line 4: duplicate token (also on line 3); the later line wins`), nami.stderr());
});
