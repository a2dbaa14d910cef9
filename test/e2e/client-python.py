# Driven by test/e2e/client-python.test.ts: Debian's python3-kubernetes (the
# official Python client) against `nami server`. Each step prints one JSON
# line {"step": ..., ...} for the test to check; a step that raises prints
# {"step": ..., "error": ...} and the script goes on.
import json
import sys
import threading
import time

from kubernetes import client, config, watch

config.load_kube_config(sys.argv[1])
core = client.CoreV1Api()
apps = client.AppsV1Api()
ns = sys.argv[2]


def step(name, fn):
    try:
        out = fn()
    except client.ApiException as e:
        out = {"error": "ApiException", "status": e.status, "body": json.loads(e.body) if e.body else None}
    except Exception as e:  # noqa: BLE001 - reported to the test
        out = {"error": repr(e)}
    print(json.dumps({"step": name, **out}), flush=True)


def cm(name, data, labels=None):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels or {}), data=data)


def setup():
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    core.create_namespaced_config_map(ns, cm("alpha", {"k": "a"}, {"tier": "web"}))
    core.create_namespaced_config_map(ns, cm("beta", {"k": "b"}, {"tier": "db"}))
    return {}


def list_selected():
    items = core.list_namespaced_config_map(ns, label_selector="tier=web").items
    return {"names": [i.metadata.name for i in items]}


def watch_from_now():
    # No resourceVersion: the stream starts with an ADDED event for each ConfigMap there is.
    seen = []
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_config_map, ns, timeout_seconds=5):
        seen.append([ev["type"], ev["object"].metadata.name])
        if len([s for s in seen if s[1] in ("alpha", "beta")]) == 2:
            w.stop()
    return {"events": seen}


def watch_changes():
    rv = core.list_namespaced_config_map(ns).metadata.resource_version

    def change():
        time.sleep(0.3)
        core.create_namespaced_config_map(ns, cm("gamma", {"k": "c"}))
        core.patch_namespaced_config_map("gamma", ns, {"data": {"k": "c2"}})
        core.delete_namespaced_config_map("gamma", ns)

    threading.Thread(target=change).start()
    seen = []
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=10):
        seen.append([ev["type"], ev["object"].metadata.name, (ev["object"].data or {}).get("k")])
        if ev["type"] == "DELETED":
            w.stop()
    return {"events": seen}


def scale():
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="main", image="busybox:1.36")]),
            ),
        ),
    )
    apps.create_namespaced_deployment(ns, body)
    apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 3}})
    d = apps.read_namespaced_deployment("web", ns)
    return {"replicas": d.spec.replicas, "maxSurge": d.spec.strategy.rolling_update.max_surge}


def not_found():
    core.read_namespaced_pod("nowhere", ns)
    return {}


def conflict():
    alpha = core.read_namespaced_config_map("alpha", ns)
    core.replace_namespaced_config_map("alpha", ns, cm("alpha", {"k": "a2"}, {"tier": "web"}))
    alpha.data = {"k": "stale"}
    core.replace_namespaced_config_map("alpha", ns, alpha)  # alpha's resourceVersion is the old one
    return {}


step("setup", setup)
step("list", list_selected)
step("watch-from-now", watch_from_now)
step("watch-changes", watch_changes)
step("scale", scale)
step("not-found", not_found)
step("conflict", conflict)
step("version", lambda: {"gitVersion": client.VersionApi().get_code().git_version})
