#!/usr/bin/env python3
"""Checks the deployment files as far as this machine can without a container engine:

- every YAML file under docker/ parses; compose files have the services, health checks,
  volumes and dependencies the deployment promises; `docker-compose config` accepts the base
  file and each variant (when docker-compose is installed);
- Kubernetes manifests: every document is a well-formed object, workloads have probes on
  ports they declare, resources, matching selectors, and secrets/config maps they reference
  exist or are documented; scaling objects point at workloads of the base; `kubectl kustomize`
  builds the base and the dev overlay (when kubectl is installed);
- `promtool check config` on both Prometheus configurations and `promtool check rules`;
  every compose service exposing /metrics is scraped, with the bearer token;
- every metric name in the Grafana dashboard, the alert rules and the scaling queries is one
  the services register (backend/**.cpp), and the dashboard uses the provisioned data source;
- the TLS script makes certificates that verify against its CA, with the right SANs;
- the Linux desktop entry and the AppStream metadata validate (when the validators exist).

Exit status: 0 all good, 1 a check failed, 77 a required tool (PyYAML, promtool) is missing.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("IDL_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCKER = os.path.join(SRC, "docker")

try:
    import yaml
except ImportError:
    print("SKIP: PyYAML is not installed (Debian: python3-yaml)")
    sys.exit(77)
if not shutil.which("promtool"):
    print("SKIP: promtool is not installed (Debian: prometheus)")
    sys.exit(77)

failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")
    return cond


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


# ---- metric names the services register -------------------------------------------------
def registered_metrics():
    names = set()
    for path in glob.glob(os.path.join(SRC, "backend", "**", "*.cpp"), recursive=True):
        text = open(path, encoding="utf-8").read()
        names.update(re.findall(r'"(idl_[a-z0-9_]+)"', text))
    return names


METRICS = registered_metrics()
check(len(METRICS) > 20, f"found the services' metric registrations ({len(METRICS)})")


def metric_names_in(expr):
    found = set()
    for name in re.findall(r"\bidl_[a-z0-9_]+", expr):
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[: -len(suffix)] in METRICS:
                name = name[: -len(suffix)]
        found.add(name)
    return found


def check_exprs(where, exprs):
    for expr in exprs:
        for name in metric_names_in(expr):
            check(name in METRICS, f"{where}: metric {name} is registered by a service")


# ---- every YAML file parses ---------------------------------------------------------------
yaml_files = sorted(glob.glob(os.path.join(DOCKER, "**", "*.yml"), recursive=True)
                    + glob.glob(os.path.join(DOCKER, "**", "*.yaml"), recursive=True))
check(len(yaml_files) >= 20, f"YAML files under docker/ ({len(yaml_files)})")
docs = {}
for f in yaml_files:
    try:
        docs[f] = [d for d in yaml.safe_load_all(open(f, encoding="utf-8")) if d is not None]
        check(True, f)
    except yaml.YAMLError as e:
        check(False, f"{f} parses as YAML: {e}")

# ---- compose -------------------------------------------------------------------------------
compose = docs.get(os.path.join(DOCKER, "compose.yml"), [{}])[0]
services = compose.get("services", {})
IDL_SERVICES = {"collector": 7080, "processor-1": 9102, "processor-2": 9102, "writer": 9102,
                "gateway": 8091}
for name in ["kafka", "kafka-init", "postgres", "migrate", "prometheus", "grafana", *IDL_SERVICES]:
    check(name in services, f"compose: service {name}")
for name, svc in services.items():
    if name in ("kafka-volume-init", "kafka-init", "migrate"):
        continue
    check("healthcheck" in svc, f"compose: {name} has a health check")
    check(svc.get("restart") == "unless-stopped", f"compose: {name} restarts unless stopped")
for name, port in IDL_SERVICES.items():
    svc = services.get(name, {})
    env = svc.get("environment", {})
    check(str(env.get("IDL_HTTP_PORT")) == str(port), f"compose: {name} ops port {port}")
    check("IDL_METRICS_TOKEN" in env, f"compose: {name} protects /metrics with the token")
    check(env.get("IDL_KAFKA_BOOTSTRAP") == "kafka:9092", f"compose: {name} uses the compose Kafka")
    deps = svc.get("depends_on", {})
    check(deps.get("migrate", {}).get("condition") == "service_completed_successfully",
          f"compose: {name} starts after the migrations")
    check(deps.get("kafka-init", {}).get("condition") == "service_completed_successfully",
          f"compose: {name} starts after the topics exist")
    check(svc.get("build", {}).get("target") in ("collector", "processor", "writer", "gateway"),
          f"compose: {name} is built from docker/Dockerfile")
# The alerter talks to PostgreSQL only (docs/alerts.md).
alerter = services.get("alerter", {})
check(alerter.get("build", {}).get("target") == "alerter", "compose: alerter is built from docker/Dockerfile")
check(str(alerter.get("environment", {}).get("IDL_HTTP_PORT")) == "9104", "compose: alerter ops port 9104")
check("IDL_METRICS_TOKEN" in alerter.get("environment", {}), "compose: alerter protects /metrics with the token")
check(alerter.get("depends_on", {}).get("migrate", {}).get("condition") == "service_completed_successfully",
      "compose: alerter starts after the migrations")
ids = [services.get(p, {}).get("environment", {}).get("IDL_INSTANCE_ID") for p in ("processor-1", "processor-2")]
check(None not in ids and len(set(ids)) == 2, "compose: the two processors have distinct instance ids")
kenv = services.get("kafka", {}).get("environment", {})
check(kenv.get("KAFKA_PROCESS_ROLES") == "broker,controller", "compose: Kafka runs in KRaft mode")
check(str(kenv.get("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR")) == "1", "compose: transactions work on one node")
for vol in ("kafka-data", "pg-data", "prometheus-data", "grafana-data"):
    check(vol in (compose.get("volumes") or {}), f"compose: named volume {vol}")
dockerfile = open(os.path.join(DOCKER, "Dockerfile"), encoding="utf-8").read()
for target in ("build", "runtime", "collector", "processor", "writer", "alerter", "gateway", "admin"):
    check(re.search(rf"^FROM \S+ AS {target}$", dockerfile, re.M), f"Dockerfile: stage {target}")
check("debian:bookworm" in dockerfile, "Dockerfile: based on Debian bookworm")
check(re.search(r"^USER 10001", dockerfile, re.M), "Dockerfile: services run unprivileged")

# Prometheus scrapes every service's ops port with the bearer token.
for conf_name in ("prometheus.yml", "prometheus-tls.yml"):
    conf = docs.get(os.path.join(DOCKER, "prometheus", conf_name), [{}])[0]
    targets = {}
    for job in conf.get("scrape_configs", []):
        for sc in job.get("static_configs", []):
            for t in sc.get("targets", []):
                targets[t] = job
    for name, port in [*IDL_SERVICES.items(), ("alerter", 9104)]:
        job = targets.get(f"{name}:{port}")
        if check(job is not None, f"{conf_name}: scrapes {name}:{port}"):
            check(job.get("authorization", {}).get("credentials_file") == "/etc/prometheus/metrics_token",
                  f"{conf_name}: {name} is scraped with the bearer token")
            if conf_name == "prometheus-tls.yml" and name in ("collector", "gateway"):
                check(job.get("scheme") == "https" and job.get("tls_config", {}).get("ca_file"),
                      f"{conf_name}: {name} is scraped over HTTPS with the CA")
pvols = services.get("prometheus", {}).get("volumes", [])
check(any(v.endswith(":/etc/prometheus/metrics_token:ro") for v in pvols), "compose: Prometheus gets the token file")

# docker-compose config: the real parser of the compose file format, on each variant.
if shutil.which("docker-compose"):
    env = dict(os.environ, IDL_PG_PASSWORD="x" * 16, IDL_METRICS_TOKEN="y" * 16,
               IDL_GRAFANA_PASSWORD="z" * 16)
    for variant in ([], ["compose.tls.yml"], ["compose.timescale.yml"], ["compose.ha.yml"]):
        files = ["compose.yml", *variant]
        args = ["docker-compose", "--project-directory", DOCKER]
        for f in files:
            args += ["-f", os.path.join(DOCKER, f)]
        r = run(args + ["config"], env=env)
        if check(r.returncode == 0, f"docker-compose config {' + '.join(files)}: {r.stderr.strip()[:500]}"):
            merged = yaml.safe_load(r.stdout)
            if variant == ["compose.tls.yml"]:
                cenv = merged["services"]["collector"]["environment"]
                check(cenv.get("IDL_TLS_CERT") and cenv.get("IDL_TLS_CLIENT_CA"), "TLS variant: collector serves HTTPS with mTLS")
                check(merged["services"]["gateway"]["environment"].get("IDL_TLS_CERT"), "TLS variant: gateway serves wss")
            if variant == ["compose.timescale.yml"]:
                check("timescale" in merged["services"]["postgres"]["image"], "TimescaleDB variant image")
            if variant == ["compose.ha.yml"]:
                ms = merged["services"]
                for name in ("kafka-2", "kafka-3", "postgres-standby", "collector-2", "gateway-2",
                             "writer-2", "haproxy"):
                    check(name in ms, f"HA variant: service {name}")
                check(ms["kafka"]["environment"].get("KAFKA_MIN_INSYNC_REPLICAS") in (2, "2"),
                      "HA variant: min.insync.replicas 2")
                for name in ("collector", "collector-2", "gateway", "gateway-2", "writer",
                             "writer-2", "processor-1", "processor-2", "alerter"):
                    e = ms.get(name, {}).get("environment", {})
                    check("target_session_attrs=read-write" in str(e.get("IDL_PG_DSN")),
                          f"HA variant: {name} has the multi-host read-write dsn")
                    check(str(e.get("IDL_KAFKA_BOOTSTRAP")).count("kafka") == 3,
                          f"HA variant: {name} names the three brokers")
                    check("IDL_METRICS_TOKEN" in e, f"HA variant: {name} protects /metrics")
                check("--replication-factor 3" in " ".join(ms["kafka-init"]["command"]),
                      "HA variant: topics have three copies")
    # The HA variant's load balancer configuration, checked by HAProxy itself.
    if shutil.which("haproxy"):
        r = run(["haproxy", "-c", "-f", os.path.join(DOCKER, "haproxy", "haproxy.cfg")])
        check(r.returncode == 0, f"haproxy -c haproxy/haproxy.cfg: {r.stderr.strip()[:500]}")
    # Missing secrets are refused, not defaulted.
    bare = {k: v for k, v in os.environ.items() if not k.startswith("IDL_")}
    with tempfile.TemporaryDirectory() as empty:
        r = run(["docker-compose", "--project-directory", empty, "-f", os.path.join(DOCKER, "compose.yml"), "config"], env=bare)
    check(r.returncode != 0 and "gen-secrets" in r.stderr, "compose refuses to start without secrets")
else:
    print("note: docker-compose not installed; only the structural compose checks ran")

# ---- promtool --------------------------------------------------------------------------------
with tempfile.TemporaryDirectory() as tmp:
    shutil.copy(os.path.join(DOCKER, "prometheus", "rules.yml"), tmp)
    open(os.path.join(tmp, "metrics_token"), "w").write("token")
    open(os.path.join(tmp, "ca.crt"), "w").write("")
    for conf_name in ("prometheus.yml", "prometheus-tls.yml"):
        text = open(os.path.join(DOCKER, "prometheus", conf_name), encoding="utf-8").read()
        path = os.path.join(tmp, conf_name)
        open(path, "w").write(text.replace("/etc/prometheus/", tmp + "/"))
        r = run(["promtool", "check", "config", path])
        check(r.returncode == 0, f"promtool check config {conf_name}: {r.stdout}{r.stderr}")
    r = run(["promtool", "check", "rules", os.path.join(DOCKER, "prometheus", "rules.yml")])
    check(r.returncode == 0, f"promtool check rules: {r.stdout}{r.stderr}")
rules = docs.get(os.path.join(DOCKER, "prometheus", "rules.yml"), [{}])[0]
check_exprs("rules.yml", [r["expr"] for g in rules.get("groups", []) for r in g.get("rules", [])])

# ---- Grafana -----------------------------------------------------------------------------
ds = docs.get(os.path.join(DOCKER, "grafana", "provisioning", "datasources", "prometheus.yml"), [{}])[0]
ds_uids = {d.get("uid") for d in ds.get("datasources", [])}
dash = json.load(open(os.path.join(DOCKER, "grafana", "dashboards", "instant-dev-logs.json"), encoding="utf-8"))
exprs = []
for p in dash.get("panels", []):
    if p.get("type") == "row":
        continue
    check(p.get("datasource", {}).get("uid") in ds_uids, f"dashboard panel '{p.get('title')}' uses the provisioned data source")
    for t in p.get("targets", []):
        exprs.append(t["expr"])
check(len(exprs) >= 15, f"dashboard has queries ({len(exprs)})")
check_exprs("dashboard", exprs)
titles = " ".join(p.get("title", "") for p in dash["panels"]).lower()
for topic in ("ingest", "lag", "dead", "error", "latency"):
    check(topic in titles, f"dashboard shows {topic}")
# Every dashboard expression parses as PromQL: load them as recording rules into promtool.
with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:expr{i}", "expr": e} for i, e in enumerate(exprs)]}]}, f)
r = run(["promtool", "check", "rules", f.name])
os.unlink(f.name)
check(r.returncode == 0, f"dashboard PromQL parses: {r.stdout}{r.stderr}")

# ---- Kubernetes -------------------------------------------------------------------------------
K8S = os.path.join(DOCKER, "k8s")
k8s_docs = [(f, d) for f, ds_ in docs.items() if f.startswith(K8S + os.sep) for d in ds_]
kinds = {}
for f, d in k8s_docs:
    if d.get("kind") == "Kustomization":
        continue
    rel = os.path.relpath(f, K8S)
    ok = check(all(k in d for k in ("apiVersion", "kind", "metadata")) and d["metadata"].get("name"),
               f"k8s {rel}: apiVersion, kind and metadata.name")
    if ok:
        kinds.setdefault(d["kind"], {})[d["metadata"]["name"]] = (rel, d)

for kind in ("Deployment", "StatefulSet"):
    for name, (rel, d) in kinds.get(kind, {}).items():
        spec = d["spec"]
        tmpl = spec["template"]
        labels = tmpl["metadata"].get("labels", {})
        sel = spec["selector"].get("matchLabels", {})
        check(sel and all(labels.get(k) == v for k, v in sel.items()), f"k8s {rel} {name}: selector matches the pod labels")
        for c in tmpl["spec"]["containers"]:
            ports = {p.get("name") for p in c.get("ports", [])} | {p.get("containerPort") for p in c.get("ports", [])}
            check("resources" in c and "requests" in c["resources"], f"k8s {rel} {name}/{c['name']}: resource requests")
            check(c.get("securityContext", {}).get("allowPrivilegeEscalation") is False,
                  f"k8s {rel} {name}/{c['name']}: no privilege escalation")
            check("readinessProbe" in c, f"k8s {rel} {name}/{c['name']}: readiness probe")
            if name.startswith("idl-"):
                for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                    p = c.get(probe, {}).get("httpGet", {})
                    check(p.get("port") in ports, f"k8s {rel} {name}: {probe} on a declared port")
                check(c["readinessProbe"]["httpGet"]["path"] == "/readyz", f"k8s {rel} {name}: ready means /readyz")
                check(c["livenessProbe"]["httpGet"]["path"] == "/healthz", f"k8s {rel} {name}: alive means /healthz")
                env = {e["name"]: e for e in c.get("env", [])}
                check("IDL_METRICS_TOKEN" in env, f"k8s {rel} {name}: /metrics needs the token")
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    check(ref["name"] == "idl-secrets" and ref["key"] in ("pg-password", "metrics-token"),
                          f"k8s {rel} {name}: secret {ref['name']}/{ref['key']} is the documented one")
for name in ("idl-processor", "idl-writer"):
    check(name in kinds.get("StatefulSet", {}), f"k8s: {name} is a StatefulSet (stable instance ids)")
check("idl-alerter" in kinds.get("Deployment", {}), "k8s: idl-alerter is a Deployment")
for name in ("idl-collector", "idl-gateway"):
    check(name in kinds.get("Deployment", {}), f"k8s: {name} is a Deployment")
    check(name in kinds.get("Service", {}), f"k8s: {name} has a Service")
pid_env = {e["name"]: e for e in kinds["StatefulSet"]["idl-processor"][1]["spec"]["template"]["spec"]["containers"][0]["env"]}
check(pid_env.get("IDL_INSTANCE_ID", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name",
      "k8s: processor instance id is the pod name")
# Lag-based scaling targets the base's workloads and queries registered metrics.
for name, (rel, d) in kinds.get("ScaledObject", {}).items():
    ref = d["spec"]["scaleTargetRef"]
    check(ref["name"] in kinds.get(ref["kind"], {}), f"k8s {rel}: ScaledObject {name} targets {ref['kind']}/{ref['name']}")
    check_exprs(f"k8s {rel}", [t["metadata"]["query"] for t in d["spec"]["triggers"]])
    check(any("lag" in t["metadata"]["query"] for t in d["spec"]["triggers"]), f"k8s {rel}: {name} scales on lag")
for name, (rel, d) in kinds.get("HorizontalPodAutoscaler", {}).items():
    ref = d["spec"]["scaleTargetRef"]
    check(ref["name"] in kinds.get(ref["kind"], {}), f"k8s {rel}: HPA {name} targets {ref['kind']}/{ref['name']}")
check({"idl-processor", "idl-writer"} <= set(kinds.get("ScaledObject", {})), "k8s: KEDA scales processors and writers")
if shutil.which("kubectl"):
    for overlay in ("base", "dev"):
        r = run(["kubectl", "kustomize", os.path.join(K8S, overlay)])
        if check(r.returncode == 0, f"kubectl kustomize {overlay}: {r.stderr.strip()[:400]}"):
            built = [d for d in yaml.safe_load_all(r.stdout) if d]
            check(all(d["metadata"].get("namespace") == "instant-dev-logs" for d in built if d["kind"] != "Namespace"),
                  f"kustomize {overlay}: everything in the instant-dev-logs namespace")
            if overlay == "dev":
                check(any(d["kind"] == "Secret" and d["metadata"]["name"] == "idl-secrets" for d in built),
                      "kustomize dev: generates idl-secrets")
else:
    print("note: kubectl not installed; kustomize builds not checked")

# ---- TLS script ----------------------------------------------------------------------------------
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "certs")
    r = run(["bash", os.path.join(DOCKER, "tls", "make-certs.sh"), "web"],
            env=dict(os.environ, IDL_TLS_DIR=out, IDL_TLS_HOSTS="logs.example.test 10.1.2.3"))
    if check(r.returncode == 0, f"make-certs.sh runs: {r.stderr[-400:]}"):
        for name in ("collector", "gateway", "client-web"):
            v = run(["openssl", "verify", "-CAfile", os.path.join(out, "ca.crt"), os.path.join(out, name + ".crt")])
            check(v.returncode == 0, f"make-certs: {name}.crt verifies against ca.crt")
        san = run(["openssl", "x509", "-noout", "-ext", "subjectAltName,extendedKeyUsage", "-in", os.path.join(out, "collector.crt")]).stdout
        check("DNS:collector" in san and "DNS:logs.example.test" in san and "10.1.2.3" in san,
              f"make-certs: collector SANs ({san.strip()})")
        cli = run(["openssl", "x509", "-noout", "-subject", "-ext", "extendedKeyUsage", "-in", os.path.join(out, "client-web.crt")]).stdout
        check("CN = web" in cli and "Client Authentication" in cli, "make-certs: client certificate for app web")
        check(oct(os.stat(os.path.join(out, "ca.key")).st_mode & 0o777) == "0o600", "make-certs: CA key private")

# ---- shell scripts and desktop metadata -----------------------------------------------------------
for script in glob.glob(os.path.join(DOCKER, "**", "*.sh"), recursive=True) + [os.path.join(SRC, "installer", "make-icons.sh")]:
    r = run(["bash", "-n", script])
    check(r.returncode == 0, f"bash -n {os.path.relpath(script, SRC)}: {r.stderr}")
desktop = glob.glob(os.path.join(SRC, "resources", "**", "*.desktop"), recursive=True)
metainfo = glob.glob(os.path.join(SRC, "resources", "linux", "*.metainfo.xml"))
check(desktop and metainfo, "desktop entry and AppStream metadata exist")
if shutil.which("desktop-file-validate"):
    for f in desktop:
        r = run(["desktop-file-validate", f])
        check(r.returncode == 0, f"desktop-file-validate {os.path.basename(f)}: {r.stdout}")
if shutil.which("appstreamcli"):
    for f in metainfo:
        r = run(["appstreamcli", "validate", "--no-net", f])
        check(r.returncode == 0, f"appstreamcli validate {os.path.basename(f)}: {r.stdout}")
for f in metainfo:
    text = open(f, encoding="utf-8").read()
    launch = re.search(r'<launchable type="desktop-id">([^<]+)</launchable>', text)
    check(launch and any(os.path.basename(d) == launch.group(1) for d in desktop),
          "AppStream launchable names the installed desktop entry")

print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
