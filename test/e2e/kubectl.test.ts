// Real kubectl 1.20, 1.27 and 1.33, default flags, against `nami server`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, KubectlRunner, kubectlOrSkip, startNami, type RunningNami } from './harness.js';

const versions = ['1.20', '1.27', '1.33'];

let nami: RunningNami;
before(async () => {
  nami = await startNami();
});
after(async () => {
  await nami?.stop();
});

function deployment(name: string, extra: { replicas?: number; image?: string; annotations?: Record<string, string>; labels?: Record<string, string> } = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name, ...(extra.labels ?? {}) }, annotations: extra.annotations ?? {} },
    spec: {
      replicas: extra.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: extra.image ?? 'busybox:1.36', ports: [{ containerPort: 80 }] }] } },
    },
  });
}

for (const version of versions) {
  const { kubectl, skip } = kubectlOrSkip(version);
  describe(`kubectl ${version}`, { skip }, () => {
    let k: KubectlRunner;
    const ns = `e2e-${version.replace('.', '-')}`;
    before(async () => {
      k = new KubectlRunner(kubectl!, nami.kubeconfig);
      await k.ok(['create', 'namespace', ns]);
    });
    after(() => k?.cleanup());

    test('get --raw /readyz answers ok', async () => {
      assert.equal((await k.ok(['get', '--raw', '/readyz'])).trim(), 'ok');
    });

    test('api-versions and api-resources list the built-in groups and kinds', async () => {
      const versionsOut = await k.ok(['api-versions']);
      for (const gv of ['v1', 'apps/v1', 'batch/v1', 'rbac.authorization.k8s.io/v1', 'apiextensions.k8s.io/v1', 'networking.k8s.io/v1']) {
        assert.match(versionsOut, new RegExp(`^${gv.replace('.', '\\.')}$`, 'm'));
      }
      const resources = await k.ok(['api-resources']);
      assert.match(resources, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
      assert.match(resources, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
    });

    test('apply creates, changes, and removes a field that left the manifest', async () => {
      const file = k.writeFile('web.json', deployment('web', { annotations: { team: 'a', keep: 'yes' } }));
      assert.match(await k.ok(['apply', '-n', ns, '-f', file]), /deployment.apps\/web created/);
      const file2 = k.writeFile('web.json', deployment('web', { replicas: 3, annotations: { keep: 'yes' } }));
      assert.match(await k.ok(['apply', '-n', ns, '-f', file2]), /deployment.apps\/web configured/);
      const obj = JSON.parse(await k.ok(['get', '-n', ns, 'deployment', 'web', '-o', 'json'])) as { spec: { replicas: number }; metadata: { annotations: Record<string, string> } };
      assert.equal(obj.spec.replicas, 3);
      assert.equal(obj.metadata.annotations.keep, 'yes');
      assert.equal(obj.metadata.annotations.team, undefined, 'the annotation removed from the manifest is removed from the object');
      assert.match(await k.ok(['apply', '-n', ns, '-f', file2]), /deployment.apps\/web unchanged/);
    });

    test('apply --server-side records managers and reports a conflict between them', async () => {
      const file = k.writeFile('ssa.json', deployment('ssa', { replicas: 2 }));
      await k.ok(['apply', '--server-side', '--field-manager', 'alpha', '-n', ns, '-f', file]);
      const other = k.writeFile('ssa2.json', deployment('ssa', { replicas: 5 }));
      const conflict = await k.run(['apply', '--server-side', '--field-manager', 'beta', '-n', ns, '-f', other]);
      assert.notEqual(conflict.code, 0);
      assert.match(conflict.stderr, /conflict/i);
      assert.match(conflict.stderr, /\.spec\.replicas/);
      await k.ok(['apply', '--server-side', '--force-conflicts', '--field-manager', 'beta', '-n', ns, '-f', other]);
      // kubectl 1.20 always prints managedFields; later versions hide them unless asked.
      const showManaged = version === '1.20' ? [] : ['--show-managed-fields'];
      const obj = JSON.parse(await k.ok(['get', '-n', ns, 'deploy', 'ssa', '-o', 'json', ...showManaged])) as {
        spec: { replicas: number };
        metadata: { managedFields: { manager: string }[] };
      };
      assert.equal(obj.spec.replicas, 5);
      assert.ok(obj.metadata.managedFields.some((m) => m.manager === 'beta'));
    });

    if (version !== '1.20') {
      test('apply --server-side over client-side apply takes over its fields: a field later left out of the manifest is removed', async () => {
        const withEnv = JSON.parse(deployment('moved')) as { spec: { template: { spec: { containers: { env?: unknown[] }[] } } } };
        withEnv.spec.template.spec.containers[0]!.env = [{ name: 'MODE', value: 'csa' }];
        await k.ok(['apply', '-n', ns, '-f', k.writeFile('moved.json', JSON.stringify(withEnv))]);
        // kubectl moves kubectl-client-side-apply's fields to its own Apply entry by a JSON patch of managedFields alone.
        await k.ok(['apply', '--server-side', '-n', ns, '-f', k.writeFile('moved.json', JSON.stringify(withEnv))]);
        const managers = JSON.parse(await k.ok(['get', '-n', ns, 'deploy', 'moved', '-o', 'json', '--show-managed-fields'])) as { metadata: { managedFields: { manager: string; operation: string }[] } };
        assert.deepEqual(managers.metadata.managedFields.filter((m) => m.manager.startsWith('kubectl')).map((m) => `${m.manager}/${m.operation}`).sort(), ['kubectl-last-applied/Apply', 'kubectl/Apply']);
        await k.ok(['apply', '--server-side', '-n', ns, '-f', k.writeFile('moved.json', deployment('moved'))]);
        assert.equal(await k.ok(['get', '-n', ns, 'deploy', 'moved', '-o', 'jsonpath={.spec.template.spec.containers[0].env}']), '');
      });
    }

    test('create from a generator and from a file', async () => {
      assert.match(await k.ok(['create', 'configmap', 'settings', '-n', ns, '--from-literal=color=blue']), /configmap\/settings created/);
      const cm = JSON.parse(await k.ok(['get', 'cm', 'settings', '-n', ns, '-o', 'json'])) as { data: Record<string, string> };
      assert.deepEqual(cm.data, { color: 'blue' });
      const file = k.writeFile('created.json', deployment('created'));
      assert.match(await k.ok(['create', '-n', ns, '-f', file]), /deployment.apps\/created created/);
      const again = await k.run(['create', '-n', ns, '-f', file]);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /AlreadyExists|already exists/);
    });

    test('a value of the wrong type is refused in the words of kube-apiserver', async () => {
      // YAML reads `value: true` as a bool, and an env value is a string.
      const manifest = [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: flags}',
        'spec:',
        '  selector: {matchLabels: {app: flags}}',
        '  template:',
        '    metadata: {labels: {app: flags}}',
        '    spec:',
        '      containers:',
        '      - {name: main, image: "busybox:1.36", env: [{name: ENABLE, value: true}]}',
      ].join('\n');
      const file = k.writeFile('flags.yaml', manifest);
      // --validate=false: the server's answer, not kubectl's own check of the manifest.
      for (const verb of ['create', 'apply']) {
        const r = await k.run([verb, '--validate=false', '-n', ns, '-f', file]);
        assert.notEqual(r.code, 0, verb);
        assert.match(
          r.stderr,
          /Error from server \(BadRequest\): error when creating ".*flags\.yaml": Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal bool into Go struct field EnvVar\.spec\.template\.spec\.containers\.env\.value of type string/,
          verb,
        );
      }
      const patch = await k.run(['patch', 'deployment', 'created', '-n', ns, '--type=merge', '-p', '{"spec":{"replicas":"3"}}']);
      assert.notEqual(patch.code, 0);
      assert.match(patch.stderr, /The request is invalid: patch: Invalid value: ".*": json: cannot unmarshal string into Go struct field DeploymentSpec\.spec\.replicas of type int32/s);
    });

    test('get prints tables, yaml, json, jsonpath and custom columns', async () => {
      await k.ok(['apply', '-n', ns, '-f', k.writeFile('getme.json', deployment('getme', { replicas: 2 }))]);
      const table = await k.ok(['get', 'deploy', 'getme', '-n', ns]);
      assert.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
      const wide = await k.ok(['get', 'deploy', 'getme', '-n', ns, '-o', 'wide']);
      assert.match(wide, /CONTAINERS\s+IMAGES\s+SELECTOR/);
      assert.match(wide, /busybox:1\.36/);
      assert.match(await k.ok(['get', 'deploy', 'getme', '-n', ns, '-o', 'yaml']), /^ {2}replicas: 2$/m);
      assert.equal(JSON.parse(await k.ok(['get', 'deploy', 'getme', '-n', ns, '-o', 'json'])).spec.replicas, 2);
      assert.equal(await k.ok(['get', 'deploy', 'getme', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'busybox:1.36');
      const cc = await k.ok(['get', 'deploy', '-n', ns, '-o', 'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas', '--sort-by=.metadata.name']);
      assert.match(cc, /^getme\s+2$/m);
    });

    test('get selects by label, by field and across namespaces', async () => {
      await k.ok(['create', 'configmap', 'sel-a', '-n', ns, '--from-literal=x=1']);
      await k.ok(['create', 'configmap', 'sel-b', '-n', ns, '--from-literal=x=2']);
      await k.ok(['label', 'cm', 'sel-a', '-n', ns, 'tier=front']);
      const byLabel = await k.ok(['get', 'cm', '-n', ns, '-l', 'tier=front', '-o', 'name']);
      assert.equal(byLabel.trim(), 'configmap/sel-a');
      const notIn = await k.ok(['get', 'cm', '-n', ns, '-l', 'tier notin (front)', '-o', 'name']);
      assert.ok(!notIn.includes('sel-a') && notIn.includes('sel-b'));
      const byField = await k.ok(['get', 'cm', '-n', ns, '--field-selector', 'metadata.name=sel-b', '-o', 'name']);
      assert.equal(byField.trim(), 'configmap/sel-b');
      const all = await k.ok(['get', 'cm', '-A']);
      assert.match(all, /^NAMESPACE\s+NAME\s+DATA\s+AGE$/m);
      assert.match(all, new RegExp(`^${ns}\\s+sel-a\\s+1\\s`, 'm'));
    });

    test('get -w sees ADDED, MODIFIED and DELETED', async () => {
      const watcher = k.spawn(['get', 'cm', '-n', ns, '-w', '--output-watch-events', '--field-selector', 'metadata.name=watched']);
      try {
        await new Promise((r) => setTimeout(r, 500));
        await eventually('the watch to start', async () => {
          await k.run(['create', 'configmap', 'watched', '-n', ns, '--from-literal=a=1']);
          return /^ADDED\s+watched\s+1\s/m.test(watcher.output()) ? true : undefined;
        });
        await k.ok(['label', 'cm', 'watched', '-n', ns, 'changed=yes']);
        await eventually('MODIFIED', () => (/^MODIFIED\s+watched\s/m.test(watcher.output()) ? true : undefined));
        await k.ok(['delete', 'cm', 'watched', '-n', ns]);
        await eventually('DELETED', () => (/^DELETED\s+watched\s/m.test(watcher.output()) ? true : undefined));
      } finally {
        watcher.child.kill();
      }
    });

    test('diff shows nothing for an object as its file says, and what applying a changed file would change', async () => {
      // Made by create, so without the last-applied annotation: kubectl 1.20's diff then patches in an empty annotations map.
      const manifest = (value: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'differ', namespace: ns, labels: { a: 'b' } }, data: { k: value } });
      await k.ok(['create', '-f', k.writeFile('differ.json', manifest('v1'))]);
      const same = await k.run(['diff', '-f', k.writeFile('differ.json', manifest('v1'))]);
      assert.equal(same.code, 0, `no difference expected:\n${same.stdout}${same.stderr}`);
      const changed = await k.run(['diff', '-f', k.writeFile('differ.json', manifest('v2'))]);
      assert.equal(changed.code, 1, changed.stderr);
      assert.match(changed.stdout, /^-\s+k: v1$/m);
      assert.match(changed.stdout, /^\+\s+k: v2$/m);
      assert.doesNotMatch(changed.stdout, /^\+\s+annotations: \{\}$/m);
    });

    test('describe shows the object', async () => {
      await k.ok(['create', 'configmap', 'described', '-n', ns, '--from-literal=k=v']);
      const out = await k.ok(['describe', 'cm', 'described', '-n', ns]);
      assert.match(out, /^Name:\s+described$/m);
      assert.match(out, new RegExp(`^Namespace:\\s+${ns}$`, 'm'));
    });

    test('edit with a scripted editor changes the object', async () => {
      await k.ok(['create', 'configmap', 'edited', '-n', ns, '--from-literal=color=red']);
      const editor = k.writeFile('editor.sh', '#!/bin/sh\nsed -i "s/color: red/color: green/" "$1"\n');
      const { chmodSync } = await import('node:fs');
      chmodSync(editor, 0o755);
      assert.match(await k.ok(['edit', 'cm', 'edited', '-n', ns], { env: { KUBE_EDITOR: editor } }), /configmap\/edited edited/);
      assert.equal(await k.ok(['get', 'cm', 'edited', '-n', ns, '-o', 'jsonpath={.data.color}']), 'green');
    });

    test('patch with strategic merge, merge and json patches', async () => {
      await k.ok(['apply', '-n', ns, '-f', k.writeFile('patched.json', deployment('patched'))]);
      await k.ok(['patch', 'deploy', 'patched', '-n', ns, '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.35"}]}}}}']);
      const names = await k.ok(['get', 'deploy', 'patched', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[*].name}']);
      assert.deepEqual(names.split(' ').sort(), ['main', 'sidecar'], 'a strategic merge patch merges containers by name');
      await k.ok(['patch', 'deploy', 'patched', '-n', ns, '--type=merge', '-p', '{"spec":{"replicas":4}}']);
      await k.ok(['patch', 'deploy', 'patched', '-n', ns, '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":6}]']);
      assert.equal(await k.ok(['get', 'deploy', 'patched', '-n', ns, '-o', 'jsonpath={.spec.replicas}']), '6');
      const bad = await k.run(['patch', 'deploy', 'patched', '-n', ns, '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":1}]']);
      assert.notEqual(bad.code, 0);
    });

    test('label and annotate add, overwrite and remove', async () => {
      await k.ok(['create', 'configmap', 'tagged', '-n', ns, '--from-literal=a=b']);
      await k.ok(['label', 'cm', 'tagged', '-n', ns, 'env=dev']);
      const clash = await k.run(['label', 'cm', 'tagged', '-n', ns, 'env=prod']);
      assert.notEqual(clash.code, 0, 'relabelling needs --overwrite');
      await k.ok(['label', 'cm', 'tagged', '-n', ns, 'env=prod', '--overwrite']);
      await k.ok(['annotate', 'cm', 'tagged', '-n', ns, 'owner=ops']);
      let obj = JSON.parse(await k.ok(['get', 'cm', 'tagged', '-n', ns, '-o', 'json'])) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
      assert.equal(obj.metadata.labels.env, 'prod');
      assert.equal(obj.metadata.annotations.owner, 'ops');
      await k.ok(['label', 'cm', 'tagged', '-n', ns, 'env-']);
      obj = JSON.parse(await k.ok(['get', 'cm', 'tagged', '-n', ns, '-o', 'json']));
      assert.equal(obj.metadata.labels?.env, undefined);
    });

    test('scale changes a Deployment spec.replicas', async () => {
      await k.ok(['apply', '-n', ns, '-f', k.writeFile('scaled.json', deployment('scaled'))]);
      assert.match(await k.ok(['scale', 'deploy', 'scaled', '-n', ns, '--replicas=7']), /scaled/);
      assert.equal(await k.ok(['get', 'deploy', 'scaled', '-n', ns, '-o', 'jsonpath={.spec.replicas}']), '7');
      if (version !== '1.20') {
        // --subresource came with kubectl 1.24: the Scale printed with Kubernetes' Scale columns.
        assert.match(await k.ok(['get', 'deploy', 'scaled', '-n', ns, '--subresource=scale']), /^NAME\s+DESIRED\s+AVAILABLE\s+AGE\nscaled\s+7\s+\d+\s+\S+$/m);
      }
    });

    test('a ResourceQuota refuses what would go over it, in kube-apiserver\'s words', async () => {
      const quotaNs = `${ns}-quota`;
      await k.ok(['create', 'namespace', quotaNs]);
      // kube-root-ca.crt is the namespace's first config map, as in any cluster.
      await k.ok(['create', 'quota', 'small', '-n', quotaNs, '--hard=configmaps=2']);
      await eventually('the quota to count the namespace', async () => ((await k.ok(['get', 'quota', 'small', '-n', quotaNs, '-o', 'jsonpath={.status.used.configmaps}'])) === '1' ? true : undefined), 30_000);
      await k.ok(['create', 'configmap', 'first', '-n', quotaNs, '--from-literal=a=b']);
      const refused = await k.run(['create', 'configmap', 'second', '-n', quotaNs, '--from-literal=a=b']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /configmaps "second" is forbidden: exceeded quota: small, requested: configmaps=1, used: configmaps=2, limited: configmaps=2/);
      await k.ok(['delete', 'namespace', quotaNs, '--wait=false']);
    });

    test('a LimitRange fills in the defaults of a pod kubectl runs, and refuses one over its max', async () => {
      const limitNs = `${ns}-limits`;
      await k.ok(['create', 'namespace', limitNs]);
      const range = { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'bounds', namespace: limitNs }, spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '128Mi' }, max: { cpu: '1' } }] } };
      await k.ok(['apply', '-f', k.writeFile('limitrange.json', JSON.stringify(range))]);
      await k.ok(['run', 'defaulted', '-n', limitNs, '--image=busybox']);
      assert.equal(await k.ok(['get', 'pod', 'defaulted', '-n', limitNs, '-o', 'jsonpath={.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.limits.memory}']), '500m 128Mi');
      const refused = await k.run(['run', 'greedy', '-n', limitNs, '--image=busybox', '--overrides={"spec":{"containers":[{"name":"greedy","image":"busybox","resources":{"limits":{"cpu":"2"}}}]}}']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /pods "greedy" is forbidden: maximum cpu usage per Container is 1, but limit is 2/);
      await k.ok(['delete', 'namespace', limitNs, '--wait=false']);
    });

    test('delete by name, by label, by file and --all', async () => {
      for (const n of ['d1', 'd2', 'd3', 'd4']) await k.ok(['create', 'configmap', n, '-n', ns, '--from-literal=a=b']);
      await k.ok(['label', 'cm', 'd2', '-n', ns, 'doomed=yes']);
      assert.match(await k.ok(['delete', 'cm', 'd1', '-n', ns]), /configmap "d1" deleted/);
      assert.match(await k.ok(['delete', 'cm', '-l', 'doomed=yes', '-n', ns]), /configmap "d2" deleted/);
      const file = k.writeFile('d3.json', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'd3', namespace: ns } }));
      assert.match(await k.ok(['delete', '-f', file]), /configmap "d3" deleted/);
      await k.ok(['delete', 'cm', '--all', '-n', ns]);
      // kube-root-ca.crt went too, and its controller made it again, as in any cluster.
      const left = (await k.ok(['get', 'cm', '-n', ns, '-o', 'name'])).split('\n').filter((l) => l !== '' && l !== 'configmap/kube-root-ca.crt');
      assert.deepEqual(left, []);
      const missing = await k.run(['delete', 'cm', 'd1', '-n', ns]);
      assert.match(missing.stderr, /NotFound|not found/);
    });

    test('explain describes fields from the OpenAPI documents', async () => {
      const out = await k.ok(['explain', 'deployment.spec.replicas']);
      assert.match(out, /replicas/);
      assert.match(out, /desired pods|Number of desired pods/i);
    });

    test('a CRD is served at once and its custom resources round-trip', async () => {
      const group = `v${version.replace('.', '')}.nami.test`;
      const crd = {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `widgets.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wg'] },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: { type: 'object', properties: { size: { type: 'integer' }, color: { type: 'string', default: 'blue' } }, 'x-kubernetes-validations': [{ rule: 'self.size <= 10', message: 'size must be at most 10' }] },
                  },
                },
              },
              subresources: { scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.size' } },
              additionalPrinterColumns: [
                { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
                { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
              ],
            },
          ],
        },
      };
      await k.ok(['apply', '-f', k.writeFile('crd.json', JSON.stringify(crd))]);
      const cr = { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } };
      await eventually('the custom resource to be accepted', async () => {
        const r = await k.run(['apply', '-n', ns, '-f', k.writeFile('cr.json', JSON.stringify(cr))]);
        return r.code === 0 ? true : undefined;
      });
      const got = JSON.parse(await k.ok(['get', `widgets.${group}`, 'w1', '-n', ns, '-o', 'json'])) as { spec: { size: number; color: string } };
      assert.equal(got.spec.size, 3);
      assert.equal(got.spec.color, 'blue', 'schema defaults are applied');
      assert.match(await k.ok(['get', `widgets.${group}`, '-n', ns]), /^NAME\s+SIZE\s+AGE$/m);
      // kubectl scale goes through the scale subresource, which writes the path the CRD names.
      await k.ok(['scale', `widgets.${group}`, 'w1', '-n', ns, '--replicas=4']);
      assert.equal(await k.ok(['get', `widgets.${group}`, 'w1', '-n', ns, '-o', 'jsonpath={.spec.size}']), '4');
      const bad = await k.run(['apply', '-n', ns, '-f', k.writeFile('bad.json', JSON.stringify({ ...cr, metadata: { name: 'w2' }, spec: { size: 'big' } }))]);
      assert.notEqual(bad.code, 0);
      // kubectl 1.20 checks the type itself from the OpenAPI document; later ones leave it to the server, whose words are kube-apiserver's.
      if (version === '1.20') assert.match(bad.stderr, /ValidationError\(Widget\.spec\.size\): invalid type .* got "string", expected "integer"/);
      else assert.match(bad.stderr, /spec\.size: Invalid value: "string": spec\.size in body must be of type integer: "string"/);
      // The CRD's validation rule (CEL) refuses what the schema alone allows.
      const tooBig = await k.run(['apply', '-n', ns, '-f', k.writeFile('big.json', JSON.stringify({ ...cr, metadata: { name: 'w3' }, spec: { size: 20 } }))]);
      assert.notEqual(tooBig.code, 0);
      assert.match(tooBig.stderr, /The Widget "w3" is invalid: spec: Invalid value: "object": size must be at most 10/);
      const scaled = await k.run(['scale', `widgets.${group}`, 'w1', '-n', ns, '--replicas=11']);
      assert.notEqual(scaled.code, 0);
      assert.match(scaled.stderr, /spec: Invalid value: "object": size must be at most 10/);
      await k.ok(['delete', 'crd', `widgets.${group}`]);
    });

    test('auth can-i answers yes for the admin, and --list shows every rule', async () => {
      // kubectl 1.33 sends the SelfSubjectAccessReview as protobuf, the older ones as JSON.
      assert.equal((await k.ok(['auth', 'can-i', 'create', 'deployments', '-n', ns])).trim(), 'yes');
      assert.equal((await k.ok(['auth', 'can-i', '*', '*', '--all-namespaces'])).trim(), 'yes');
      assert.equal((await k.ok(['auth', 'can-i', 'get', '/healthz'])).trim(), 'yes');
      const rules = await k.ok(['auth', 'can-i', '--list', '-n', ns]);
      assert.match(rules, /^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m);
      assert.match(rules, /^\s+\[\*\]\s+\[\]\s+\[\*\]$/m);
      const resources = await k.ok(['api-resources', '--api-group=authorization.k8s.io']);
      assert.match(resources, /^selfsubjectaccessreviews\s+authorization\.k8s\.io\/v1\s+false\s+SelfSubjectAccessReview$/m);
      if (version !== '1.20') {
        const whoami = await k.run(['auth', 'whoami']);
        if (version === '1.27') {
          // 1.27 asks for authentication.k8s.io/v1beta1 and v1alpha1 only, which a 1.33 server no longer serves.
          assert.notEqual(whoami.code, 0);
          assert.match(whoami.stderr, /the selfsubjectreviews API is not enabled in the cluster/);
        } else {
          assert.equal(whoami.code, 0, whoami.stderr);
          assert.match(whoami.stdout, /^Username\s+nami-admin$/m);
          assert.match(whoami.stdout, /^Groups\s+\[system:masters system:authenticated\]$/m);
        }
      }
    });

    test('deleting a namespace removes what was in it', async () => {
      const doomed = `${ns}-gone`;
      await k.ok(['create', 'namespace', doomed]);
      await k.ok(['create', 'configmap', 'inside', '-n', doomed, '--from-literal=a=b']);
      await k.ok(['apply', '-n', doomed, '-f', k.writeFile('inside.json', deployment('inside'))]);
      await k.ok(['delete', 'namespace', doomed, '--timeout=60s']);
      const r = await k.run(['get', 'namespace', doomed]);
      assert.match(r.stderr, /NotFound|not found/);
    });
  });
}
