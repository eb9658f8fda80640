#!/usr/bin/env bash
# Checks packaging/kubernetes/:
#  - yamllint (packaging/yamllint.yml) over packaging/;
#  - every manifest goes through kubectl offline (`kubectl label --local
#    --dry-run=client -o yaml`: `kubectl apply --dry-run=client` needs an API
#    server even for client dry runs: it reads the server's resource list and
#    GETs the live object), and `kubectl kustomize` builds the kustomization;
#  - the sidecar patch merges into a Deployment shaped like Velero's
#    (`kubectl patch --local`, strategic merge);
#  - prometheusrule.yaml carries exactly the groups of ferry-rules.yml;
#  - what the brief asks of each object (probes, strategy, secrets, security),
#    and the ConfigMap's configuration passes `ferryd --check-config`.
# Usage: kubernetes_test.sh SOURCE_DIR FERRYD_BINARY
set -euo pipefail
src=$1 ferryd=$2
k8s="$src/packaging/kubernetes"
work=$(mktemp -d /tmp/ferry-k8s-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
# No cluster: an empty kubeconfig, so nothing can reach a real one by accident.
printf 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n' >"$work/kubeconfig"
export KUBECONFIG="$work/kubeconfig"
kc() { timeout 60 kubectl --request-timeout=5s "$@"; }
fail=0
err() { echo "FAIL: $*"; fail=1; }

yamllint -s -c "$src/packaging/yamllint.yml" "$src/packaging/" || err "yamllint"

for f in configmap deployment pvc service podmonitor prometheusrule velero-sidecar-patch; do
  if kc label --local --dry-run=client -f "$k8s/$f.yaml" ferry-test=offline -o yaml \
      >"$work/$f.out" 2>"$work/$f.err"; then
    echo "kubectl: $f.yaml ok"
  else
    cat "$work/$f.err"; err "kubectl rejects $f.yaml"
  fi
done
kc kustomize "$k8s" >"$work/kustomized.yaml" 2>"$work/kustomize.err" ||
  { cat "$work/kustomize.err"; err "kubectl kustomize failed"; }
kc patch --local --dry-run=client -f "$src/tests/packaging/velero-deployment.yaml" --type strategic \
  -p "$(cat "$k8s/velero-sidecar-patch.yaml")" -o yaml >"$work/patched.yaml" 2>"$work/patch.err" ||
  { cat "$work/patch.err"; err "the sidecar patch does not apply to Velero's Deployment"; }

"$k8s/gen-prometheusrule.sh" | cmp -s - "$k8s/prometheusrule.yaml" ||
  err "prometheusrule.yaml is not the output of gen-prometheusrule.sh (regenerate it)"

/usr/bin/python3 - "$src" "$work" <<'PY' || fail=1
import sys, yaml
src, work = sys.argv[1], sys.argv[2]
k8s = f"{src}/packaging/kubernetes"
load = lambda p: yaml.safe_load(open(p))
fails = []
def check(cond, msg):
    if not cond:
        fails.append(msg)

# PrometheusRule == ferry-rules.yml.
rules = load(f"{src}/packaging/prometheus/ferry-rules.yml")
pr = load(f"{k8s}/prometheusrule.yaml")
check(pr["apiVersion"] == "monitoring.coreos.com/v1" and pr["kind"] == "PrometheusRule", "prometheusrule kind")
check(pr["spec"]["groups"] == rules["groups"], "prometheusrule.yaml groups differ from ferry-rules.yml")

# Every object lives in namespace velero.
objs = list(yaml.safe_load_all(open(f"{work}/kustomized.yaml")))
kinds = sorted(o["kind"] for o in objs)
check(kinds == sorted(["ConfigMap", "PersistentVolumeClaim", "Deployment", "Service", "PodMonitor", "PrometheusRule"]),
      f"kustomization builds {kinds}")
for o in objs:
    check(o["metadata"].get("namespace") == "velero", f"{o['kind']} not in namespace velero")

dep = load(f"{k8s}/deployment.yaml")
s = dep["spec"]; pod = s["template"]["spec"]
check(s["replicas"] == 1, "deployment replicas != 1")
check(s["strategy"]["type"] == "Recreate", "deployment strategy is not Recreate")
c = next(c for c in pod["containers"] if c["name"] == "ferryd")
check(c["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness probe is not /healthz")
check(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness probe is not /readyz")
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
for probe in ("livenessProbe", "readinessProbe"):
    port = c[probe]["httpGet"]["port"]
    check(ports.get(port, port) == 9464, f"{probe} not on port 9464")
sc = c["securityContext"]
check(sc.get("readOnlyRootFilesystem") is True, "root file system not read-only")
check(sc.get("allowPrivilegeEscalation") is False, "privilege escalation allowed")
check(sc.get("capabilities", {}).get("drop") == ["ALL"], "capabilities not dropped")
check(pod["securityContext"].get("runAsNonRoot") is True and pod["securityContext"].get("runAsUser", 0) > 0,
      "pod may run as root")
check("limits" in c.get("resources", {}) and "requests" in c["resources"], "resources not set")
vols = {v["name"]: v for v in pod["volumes"]}
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
cred = [v for v in vols.values() if v.get("secret", {}).get("secretName") == "cloud-credentials"]
check(len(cred) == 1 and any(i["key"] == "cloud" for i in cred[0]["secret"].get("items", [])),
      "Velero's cloud-credentials secret (key cloud) is not mounted")
cred_file = None
if cred:
    item = next(i for i in cred[0]["secret"]["items"] if i["key"] == "cloud")
    cred_file = f"{mounts.get(cred[0]['name'])}/{item['path']}"
cfgvol = [v for v in vols.values() if v.get("configMap", {}).get("name") == "ferry-config"]
check(cfgvol and mounts.get(cfgvol[0]["name"]) == "/etc/ferry", "ferry-config not mounted at /etc/ferry")
pvc = [v for v in vols.values() if v.get("persistentVolumeClaim", {}).get("claimName") == "ferry-state"]
check(pvc and mounts.get(pvc[0]["name"]) == "/var/lib/ferry", "ferry-state not mounted at /var/lib/ferry")

cm = load(f"{k8s}/configmap.yaml")
check(cm["metadata"]["name"] == "ferry-config", "configmap name")
cfg = yaml.safe_load(cm["data"]["ferry.yaml"])
open(f"{work}/ferry.yaml", "w").write(cm["data"]["ferry.yaml"])
check(cfg["http"]["listen"] == "0.0.0.0:9464", "http.listen is not 0.0.0.0:9464")
check(cfg.get("state_dir", "/var/lib/ferry") == "/var/lib/ferry", "state_dir is not the PVC")
files = {e["credentials"].get("file") for e in cfg["endpoints"].values()}
check(files == {cred_file}, f"endpoints read credentials from {files}, the secret is at {cred_file}")

svc = load(f"{k8s}/service.yaml")
check(svc["spec"]["selector"] == s["selector"]["matchLabels"], "service selector does not match the pods")
check(any(p["port"] == 9464 for p in svc["spec"]["ports"]), "service has no port 9464")
pm = load(f"{k8s}/podmonitor.yaml")
check(pm["apiVersion"] == "monitoring.coreos.com/v1", "podmonitor apiVersion")
check(pm["spec"]["selector"]["matchLabels"].items() <= s["template"]["metadata"]["labels"].items(),
      "podmonitor selector does not match the pods")
check(pm["spec"]["podMetricsEndpoints"][0]["port"] in ports, "podmonitor port is not a container port")
pvcobj = load(f"{k8s}/pvc.yaml")
check(pvcobj["metadata"]["name"] == "ferry-state", "pvc name")

# The patched Velero Deployment: velero's container kept, ferryd added, Velero's
# credentials volume shared, ours added, strategy Recreate without rollingUpdate.
pd = load(f"{work}/patched.yaml")
ps = pd["spec"]["template"]["spec"]
names = [c["name"] for c in ps["containers"]]
check(names.count("velero") == 1 and names.count("ferryd") == 1, f"patched containers: {names}")
vnames = {v["name"] for v in ps["volumes"]}
check({"plugins", "scratch", "cloud-credentials", "ferry-config", "ferry-state"} <= vnames, f"patched volumes: {vnames}")
fc = next((c for c in ps["containers"] if c["name"] == "ferryd"), {})
fm = {m["name"]: m["mountPath"] for m in fc.get("volumeMounts", [])}
check(fm.get("cloud-credentials") == "/credentials", "sidecar does not mount Velero's credentials at /credentials")
check(pd["spec"]["strategy"] == {"type": "Recreate"}, f"patched strategy: {pd['spec']['strategy']}")
vc = next((c for c in ps["containers"] if c["name"] == "velero"), {})
check(vc.get("image", "").startswith("velero/"), "velero container changed")

for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY

"$ferryd" --config "$work/ferry.yaml" --check-config >"$work/check.out" 2>&1 ||
  { cat "$work/check.out"; err "ferryd --check-config rejects the ConfigMap's configuration"; }

[ "$fail" -eq 0 ] && echo "PASS: kubernetes manifests"
exit "$fail"
