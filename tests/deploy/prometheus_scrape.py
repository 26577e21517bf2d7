#!/usr/bin/env python3
"""A real Prometheus (the OS package) scrapes a running idl-collector with the bearer token.

Starts `idl-stack up` (private PostgreSQL, local Kafka, every service) in a temporary
folder, then Prometheus with a private data folder on a free port and two jobs against the
collector's /metrics: one with the stack's metrics token (as docker/prometheus/prometheus.yml
does), one without. Sends the collector a request with a wrong API key, and asserts through
Prometheus's HTTP API that
  - the job with the token is up and its samples carry the collector's metrics, including the
    401 just caused (so what Prometheus stores is what the collector counts);
  - the job without the token is down with a 401 (the endpoint is not open);
  - the alert rules of docker/prometheus/rules.yml load and evaluate.
Exit 0 pass, 1 fail, 77 skip (no prometheus / idl-stack).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SRC = os.environ.get("IDL_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("IDL_BIN_DIR", os.path.join(SRC, "build", "bin"))
PROMETHEUS = shutil.which("prometheus")
STACK = os.path.join(BIN, "idl-stack")

if not PROMETHEUS:
    print("SKIP: prometheus is not installed (Debian: prometheus)")
    sys.exit(77)
if not os.access(STACK, os.X_OK):
    print(f"SKIP: {STACK} is not built")
    sys.exit(77)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, headers=None, data=None, timeout=5):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_for(what, fn, timeout, interval=0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (OSError, ValueError, KeyError) as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def stop(proc, name, timeout=60):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop within {timeout}s; killing it")
            proc.kill()
            proc.wait()


failures = []
passes = 0


def check(cond, what):
    global passes
    print(("ok   " if cond else "FAIL ") + what)
    if cond:
        passes += 1
    else:
        failures.append(what)


tmp = tempfile.mkdtemp(prefix="idl-deploy-prom-")
os.chmod(tmp, 0o755)  # PostgreSQL may run as another user when the tests run as root
stack_dir = os.path.join(tmp, "stack")
stack = prom = None
stack_log = open(os.path.join(tmp, "stack.log"), "w")
prom_log_path = os.path.join(tmp, "prometheus.log")
try:
    stack = subprocess.Popen([STACK, "up", "--data-dir", stack_dir, "--collector-port", "0",
                              "--gateway-port", "0", "--bin-dir", BIN],
                             stdout=stack_log, stderr=subprocess.STDOUT, start_new_session=True)
    info_path = os.path.join(stack_dir, "stack.json")

    def stack_ready():
        if stack.poll() is not None:
            raise AssertionError(f"idl-stack exited with {stack.returncode}: "
                                 + open(stack_log.name).read()[-2000:])
        if not os.path.exists(info_path) or os.path.exists(os.path.join(stack_dir, ".starting")):
            return None
        return json.load(open(info_path))

    info = wait_for("idl-stack up (stack.json)", stack_ready, 150)
    collector = info["collector_url"].rstrip("/")
    token = info["metrics_token"]
    check(bool(token), "the stack protects /metrics with a token")
    status, _ = http(collector + "/metrics")
    check(status == 401, f"/metrics without the token answers 401 (got {status})")
    status, _ = http(collector + "/api/v1/logs", {"Authorization": "Bearer not-a-key",
                                                  "Content-Type": "application/x-ndjson"},
                     b'{"app":"deploy-test","level":"info","msg":"hello"}\n')
    check(status == 401, f"ingestion with a wrong key answers 401 (got {status})")

    # Prometheus: the compose configuration's shape, with the stack's collector as target.
    port = free_port()
    token_file = os.path.join(tmp, "metrics_token")
    with open(token_file, "w") as f:
        f.write(token)
    rules = os.path.join(tmp, "rules.yml")
    shutil.copy(os.path.join(SRC, "docker", "prometheus", "rules.yml"), rules)
    target = urllib.parse.urlparse(collector).netloc
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["{rules}"]
scrape_configs:
  - job_name: idl-collector
    authorization:
      credentials_file: {token_file}
    static_configs:
      - targets: ["{target}"]
  - job_name: idl-collector-no-token
    static_configs:
      - targets: ["{target}"]
""")
    prom = subprocess.Popen([PROMETHEUS, "--config.file", os.path.join(tmp, "prometheus.yml"),
                             "--storage.tsdb.path", os.path.join(tmp, "tsdb"),
                             "--web.listen-address", f"127.0.0.1:{port}", "--log.level", "warn"],
                            stdout=open(prom_log_path, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    api = f"http://127.0.0.1:{port}/api/v1"

    def query(q):
        status, body = http(f"{api}/query?query={urllib.parse.quote(q)}")
        doc = json.loads(body)
        if status != 200 or doc.get("status") != "success":
            raise ValueError(doc)
        return doc["data"]["result"]

    wait_for("Prometheus ready", lambda: http(f"http://127.0.0.1:{port}/-/ready")[0] == 200, 30)

    def targets():
        _, body = http(f"{api}/targets")
        active = json.loads(body)["data"]["activeTargets"]
        by_job = {t["labels"]["job"]: t for t in active}
        if all(by_job.get(j, {}).get("health") in ("up", "down")
               for j in ("idl-collector", "idl-collector-no-token")):
            return by_job
        return None

    by_job = wait_for("both targets scraped", targets, 30)
    check(by_job["idl-collector"]["health"] == "up",
          f"the job with the token is up ({by_job['idl-collector'].get('lastError')})")
    check(by_job["idl-collector-no-token"]["health"] == "down"
          and "401" in by_job["idl-collector-no-token"].get("lastError", ""),
          f"the job without the token is down with 401 ({by_job['idl-collector-no-token'].get('lastError')})")

    series = wait_for("collector metrics in Prometheus",
                      lambda: query('{job="idl-collector",__name__=~"idl_collector_.+"}'), 20)
    names = {s["metric"]["__name__"] for s in series}
    for name in ("idl_collector_pending_requests", "idl_collector_kafka_queue_depth",
                 "idl_collector_events_accepted_total"):
        check(name in names, f"Prometheus has {name} from the collector")
    unauth = wait_for("the 401 counted",
                      lambda: query('idl_collector_requests_total{job="idl-collector",code="401"}'), 20)
    check(float(unauth[0]["value"][1]) >= 1,
          f"Prometheus sees the rejected request: idl_collector_requests_total{{code=\"401\"}} = {unauth[0]['value'][1]}")
    up = query('up{job="idl-collector"}')
    check(up and up[0]["value"][1] == "1", "up{job=\"idl-collector\"} == 1")

    def rules_loaded():
        _, body = http(f"{api}/rules")
        groups = json.loads(body)["data"]["groups"]
        evaluated = [r for g in groups for r in g["rules"] if r.get("lastEvaluation", "").startswith("20")]
        return groups if groups and evaluated else None

    groups = wait_for("alert rules evaluated", rules_loaded, 20)
    bad = [r["name"] for g in groups for r in g["rules"] if r.get("health") not in ("ok", "unknown")]
    check(not bad, f"every rule of docker/prometheus/rules.yml evaluates ({bad})")
    # The no-token job is down: the shipped IdlServiceDown alert watches exactly that.
    pending = wait_for("IdlServiceDown pending for the no-token job", lambda: [
        a for a in json.loads(http(f"{api}/alerts")[1])["data"]["alerts"]
        if a["labels"].get("alertname") == "IdlServiceDown"
        and a["labels"].get("job") == "idl-collector-no-token"], 20)
    check(bool(pending), "IdlServiceDown fires for a target that refuses the scrape")
except AssertionError as e:
    check(False, str(e))
finally:
    stop(prom, "prometheus", 20)
    stop(stack, "idl-stack", 90)
    if stack is not None and stack.poll() is None:
        subprocess.run([STACK, "down", "--data-dir", stack_dir], timeout=60)
    stack_log.close()
    if failures:
        for path in (stack_log.name, prom_log_path):
            if os.path.exists(path):
                print(f"---- {os.path.basename(path)} (tail)")
                print(open(path, errors="replace").read()[-3000:])
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{passes} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
