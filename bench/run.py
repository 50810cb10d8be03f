"""Benchmarks of terraform-provider-datadog (release build) against fresh sandboxes.

Run through `make bench` or `scripts/bench`; writes bench/RESULTS.md.
Every Terraform command runs the project's pinned Terraform (scripts/terraform). The
provider runs from a wrapper directory (SANDBOX_BIN_DIR) whose
`terraform-provider-datadog` is a shell script exec'ing the real binary under
`/usr/bin/time -v`, so each provider process leaves its CPU time and peak RSS in a file.
Wall times are printed and compared, never asserted. Datadog request counts come
from the fake's request log (`/_fake/requests`), added latency from its faults.
"""

import argparse
import collections
import datetime
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.environ.get("BENCH_BIN_DIR") or os.path.join(REPO, "target", "release")
PROVIDER = os.path.join(RELEASE, "terraform-provider-datadog")
FAKE = os.path.join(RELEASE, "fake-datadog")
TERRAFORM = os.path.join(REPO, "scripts", "terraform")
SANDBOX = os.path.join(REPO, "scripts", "sandbox")
TIME = "/usr/bin/time"
MAGIC = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"

REQUIRED_PROVIDERS = """terraform {
  required_providers {
    datadog = { source = "orgsync/datadog" }
  }
}
provider "datadog" {}
"""


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- helpers


class Work:
    """The temporary work directory: wrapper bin dir, sandboxes, Terraform dirs."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="tf-bench-")
        self.bin = os.path.join(self.root, "bin")
        self.times = os.path.join(self.root, "times")
        os.makedirs(self.bin)
        os.makedirs(self.times)
        os.symlink(FAKE, os.path.join(self.bin, "fake-datadog"))
        wrapper = os.path.join(self.bin, "terraform-provider-datadog")
        with open(wrapper, "w") as f:
            f.write(
                "#!/bin/sh\n"
                "# bench wrapper: the real provider under GNU time (CPU time, peak RSS)\n"
                'd="${BENCH_TIME_DIR:-/tmp}"\n'
                f'exec {TIME} -v -o "$d/provider.$$.time" {PROVIDER} "$@"\n'
            )
        os.chmod(wrapper, 0o755)
        self._n = 0

    def new_time_dir(self, label):
        self._n += 1
        d = os.path.join(self.times, f"{self._n:02d}-{label}")
        os.makedirs(d)
        return d


def parse_time_file(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("User time (seconds):"):
                out["user"] = float(line.split(":")[1])
            elif line.startswith("System time (seconds):"):
                out["sys"] = float(line.split(":")[1])
            elif line.startswith("Maximum resident set size (kbytes):"):
                out["rss_kb"] = int(line.split(":")[1])
    return out


def provider_usage(time_dir):
    """Sum of CPU, max of peak RSS over the provider processes of one command."""
    files = sorted(f for f in os.listdir(time_dir) if f.endswith(".time"))
    usage = {"procs": len(files), "cpu": 0.0, "rss_kb": 0}
    for f in files:
        u = parse_time_file(os.path.join(time_dir, f))
        usage["cpu"] += u.get("user", 0.0) + u.get("sys", 0.0)
        usage["rss_kb"] = max(usage["rss_kb"], u.get("rss_kb", 0))
    return usage


class Sandbox:
    def __init__(self, work, name, extra_env):
        self.dir = os.path.join(work.root, "sandbox-" + name)
        env = dict(os.environ)
        env.update({"SANDBOX_BIN_DIR": work.bin, "SANDBOX_NO_BUILD": "1"})
        env.update(extra_env)
        log(f"sandbox up ({name}: {' '.join(f'{k}={v}' for k, v in extra_env.items())})")
        t0 = time.monotonic()
        subprocess.run([SANDBOX, "up", "--dir", self.dir, "--owner-pid", str(os.getpid())], env=env, check=True)
        log(f"sandbox up in {time.monotonic() - t0:.1f}s")
        self.env = {}
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                m = re.match(r"^export ([A-Za-z_0-9]+)='(.*)'$", line.strip())
                if m:
                    self.env[m.group(1)] = m.group(2)

    def down(self):
        subprocess.run([SANDBOX, "down", "--dir", self.dir], check=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.down()


class TfDir:
    def __init__(self, work, name, sandbox, main_tf):
        self.dir = os.path.join(work.root, "tf-" + name)
        os.makedirs(self.dir)
        with open(os.path.join(self.dir, "main.tf"), "w") as f:
            f.write(main_tf)
        self.work = work
        self.name = name
        self.env = dict(os.environ)
        self.env.update(sandbox.env if sandbox else {})
        self.env.update({"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_INPUT": "0"})
        for k in ("TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_PATH"):
            self.env.pop(k, None)

    def run(self, label, *args, extra_env=None, timeout=900):
        """Runs one Terraform command; returns (wall seconds, provider usage)."""
        tdir = self.work.new_time_dir(f"{self.name}-{label}")
        env = dict(self.env, BENCH_TIME_DIR=tdir)
        env.update(extra_env or {})
        outp = os.path.join(tdir, "terraform.out")
        log(f"{self.name}: terraform {' '.join(args)}")
        t0 = time.monotonic()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(outp, "w") as out:
            rc = subprocess.run([TERRAFORM, *args, "-no-color", "-input=false"], cwd=self.dir, env=env,
                                stdout=out, stderr=subprocess.STDOUT, timeout=timeout).returncode
        wall = time.monotonic() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if rc not in (0, 2):
            with open(outp) as f:
                sys.stderr.write(f.read()[-4000:])
            raise RuntimeError(f"terraform {' '.join(args)} in {self.dir} failed (exit {rc})")
        usage = provider_usage(tdir)
        usage["rc"] = rc
        usage["summary"] = outcome(outp)
        # Terraform (and everything it reaped: the provider processes too) minus the provider.
        usage["tf_cpu"] = max(0.0, ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime - usage["cpu"])
        log(f"{self.name}: {label} {wall:.2f}s wall, Terraform {usage['tf_cpu']:.2f}s CPU, provider {usage['cpu']:.2f}s CPU, "
            f"{usage['rss_kb'] / 1024:.1f} MB peak RSS over {usage['procs']} process(es)")
        return wall, usage


def outcome(path):
    """Terraform's closing line: `Plan: …`, `No changes. …`, `Apply complete! …` (or "")."""
    found = ""
    with open(path, errors="replace") as f:
        for line in f:
            if re.match(r"^(Plan: |No changes\.|Apply complete!|Destroy complete!)", line):
                found = line.strip()
    return found


DEBUG_LOGS = False


def debug_plan(tf):
    """An extra, unmeasured plan with TF_LOG_PROVIDER=DEBUG; the log stays in the work dir."""
    path = os.path.join(tf.dir, "plan-debug.log")
    tf.run("plan-debug", "plan", "-refresh=true", extra_env={"TF_LOG_PROVIDER": "DEBUG", "TF_LOG_PATH": path})
    log(f"{tf.name}: provider debug log of a plan in {path}")


def http_json(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(req, timeout=60) as r:
        body = r.read()
    return json.loads(body) if body else None


def mb(kb):
    return f"{kb / 1024:.1f} MB" if kb else "n/a"


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "n/a"


# --------------------------------------------------------------------------- benchmarks


# A terraform_data baseline can carry an object shaped like a link's state (same
# attributes, sets as lists), to tell Terraform's cost per attribute apart from the
# cost of the plugin protocol.
LINK_LIKE_LOCALS = """
locals {
  link_like = {
    account_tags = [], adopt_existing = true, aws_partition = "aws", aws_regions = null,
    external_id = "ec51cb62ee0a4339ac8a4796c054561c", id = "0a5c83f9-7f87-452f-b87f-9f06e1f5735d",
    logs = { lambda_forwarder = { lambdas = [], sources = [] } },
    metrics = {
      automute = true, collect_cloudwatch_alarms = false, collect_custom_metrics = false, enabled = true,
      namespace_filters = { exclude_only = ["AWS/ElasticMapReduce", "AWS/SQS"], include_only = null },
      tag_filters = [],
    },
    resources = { cloud_security_posture_management = false, extended_collection = true },
    role_arn = "arn:aws:iam::100000000000:role/DatadogIntegrationRole", role_name = "DatadogIntegrationRole",
    stack_set_revision = null, timeouts = null, traces = { xray_services = [] }, wait_for_registration = "0s",
  }
}
"""


def account_ids(n):
    """N distinct 12-digit AWS account ids (the ones the `count` configs format too)."""
    return [f"{100000000000 + i:012d}" for i in range(n)]


def account_ids_locals(ids):
    return "\nlocals {\n  account_ids = [\n" + "".join(f'    "{i}",\n' for i in ids) + "  ]\n}\n"


def terraform_data_config(n, link_shaped=False, ids=None):
    """N `terraform_data` resources, the same-data baselines of the link benchmarks.

    Each holds the account id the link of the same key has: `count` with formatted ids
    (bench_overhead), or `for_each` over `ids` (bench_reads). With link_shaped, the id
    sits in an object shaped like a link's state (LINK_LIKE_LOCALS).
    """
    if ids is None:
        meta, key = f"count = {n}", 'format("%012d", 100000000000 + count.index)'
    else:
        meta, key = "for_each = toset(local.account_ids)", "each.key"
    value = f"merge(local.link_like, {{ aws_account_id = {key} }})" if link_shaped else key
    cfg = f'\nresource "terraform_data" "a" {{\n  {meta}\n  input = {value}\n}}\n'
    if link_shaped:
        cfg += LINK_LIKE_LOCALS
    if ids is not None:
        cfg += account_ids_locals(ids)
    return cfg


def bench_overhead(work, res, n=1000):
    links = REQUIRED_PROVIDERS + f"""
resource "datadog_aws_account_link" "a" {{
  count          = {n}
  aws_account_id = format("%012d", 100000000000 + count.index)
}}
"""
    data = terraform_data_config(n)
    # A second baseline: terraform_data carrying a link-shaped object.
    sized = terraform_data_config(n, link_shaped=True)
    with Sandbox(work, "overhead", {"SANDBOX_AWS": "0"}) as sb:
        rows = {}
        for name, cfg in (("links", links), ("data", data), ("data_sized", sized)):
            tf = TfDir(work, name, sb, cfg)
            r = {}
            r["apply50"] = tf.run("apply-p50", "apply", "-auto-approve", "-parallelism=50")
            r["plan"] = tf.run("plan-refresh", "plan", "-refresh=true", "-detailed-exitcode")
            r["plan_norefresh"] = tf.run("plan-no-refresh", "plan", "-refresh=false", "-detailed-exitcode")
            if name == "data_sized":
                rows[name] = r
                continue
            if DEBUG_LOGS and name == "links":
                debug_plan(tf)
            r["destroy50"] = tf.run("destroy-p50", "destroy", "-auto-approve", "-parallelism=50")
            r["apply10"] = tf.run("apply-p10", "apply", "-auto-approve", "-parallelism=10")
            r["destroy10"] = tf.run("destroy-p10", "destroy", "-auto-approve", "-parallelism=10")
            rows[name] = r
    res["overhead"] = {"n": n, "rows": rows}


ACCOUNTS_PATH = "/api/v2/integration/aws/accounts"
REQUEST_KINDS = ("listing", "get-by-id", "validate", "other")
READS_GOAL_REQUESTS = 5
READS_GOAL_RATIO = 1.3
READS_LATENCY_MS = 100


def request_kind(r):
    """listing (GET of the accounts collection), get-by-id, validate (the key check) or other."""
    method, path = (r.get("method") or "").upper(), r.get("path") or ""
    if path == "/api/v1/validate":
        return "validate"
    if method == "GET" and path.rstrip("/") == ACCOUNTS_PATH:
        return "listing"
    rest = path[len(ACCOUNTS_PATH) + 1:] if path.startswith(ACCOUNTS_PATH + "/") else ""
    if method == "GET" and rest and "/" not in rest:
        return "get-by-id"
    return "other"


def fake_requests(admin):
    """The fake's request log, counted by kind (and by method + path shape)."""
    log_ = http_json("GET", admin + "/requests")
    reqs = log_.get("requests", [])
    kinds = collections.Counter(request_kind(r) for r in reqs)
    shapes = collections.Counter(
        f"{(r.get('method') or '').upper()} "
        + (ACCOUNTS_PATH + "/{id}" if request_kind(r) == "get-by-id" else r.get("path") or "")
        + ("?" + r["query"] if r.get("query") and request_kind(r) != "get-by-id" else "")
        for r in reqs)
    return {"total": len(reqs), "kinds": {k: kinds.get(k, 0) for k in REQUEST_KINDS},
            "shapes": dict(sorted(shapes.items())), "discarded": log_.get("discarded", 0),
            "faulted": sum(1 for r in reqs if r.get("fault")),
            "errors": sum(1 for r in reqs if not isinstance(r.get("status"), int) or r["status"] >= 400)}


def bench_reads(work, res, ns=(200, 1000), repeat=3):
    """Datadog requests per refresh of N links, and the refresh plan with latency on
    every Datadog request against N link-shaped `terraform_data` (no requests at all).

    Per N, a fresh Datadog-only sandbox: apply N links (`for_each` over N account ids)
    and the baselines; one plan with the request log cleared (the count); then a latency
    fault on every request and `repeat` plans of each config, interleaved, medians kept;
    last one plan of plain `terraform_data` over the same keys (Terraform's for_each cost).
    """
    out = res.setdefault("reads", {"ns": [], "repeat": repeat, "latency_ms": READS_LATENCY_MS, "rows": {}})
    for n in ns:
        ids = account_ids(n)
        links = REQUIRED_PROVIDERS + """
resource "datadog_aws_account_link" "a" {
  for_each       = toset(local.account_ids)
  aws_account_id = each.key
}
""" + account_ids_locals(ids)
        data = terraform_data_config(n, link_shaped=True, ids=ids)
        # Terraform's own cost of `for_each` over N keys, with one string per resource.
        plain = terraform_data_config(n, ids=ids)
        with Sandbox(work, f"reads-{n}", {"SANDBOX_AWS": "0"}) as sb:
            admin = sb.env["SANDBOX_DATADOG_ADMIN_URL"]
            lk = TfDir(work, f"reads{n}-links", sb, links)
            dt = TfDir(work, f"reads{n}-data_sized", sb, data)
            dp = TfDir(work, f"reads{n}-data_plain", sb, plain)
            r = {"n": n}
            r["apply"] = lk.run("apply-p50", "apply", "-auto-approve", "-parallelism=50", timeout=1800)
            r["data_apply"] = dt.run("apply-p50", "apply", "-auto-approve", "-parallelism=50", timeout=1800)
            r["plain_apply"] = dp.run("apply-p50", "apply", "-auto-approve", "-parallelism=50", timeout=1800)
            r["accounts"] = len(http_json("GET", admin + "/accounts").get("accounts", []))

            http_json("DELETE", admin + "/requests")
            r["plan"] = lk.run("plan-refresh", "plan", "-refresh=true", "-detailed-exitcode")
            r["requests"] = fake_requests(admin)
            log(f"reads {n}: plan requests {r['requests']['total']}: {r['requests']['kinds']}")
            if DEBUG_LOGS:
                debug_plan(lk)

            count = 1_000_000  # every request for the duration of the plans
            http_json("DELETE", admin + "/faults")
            http_json("POST", admin + "/faults", {"kind": "latency", "ms": READS_LATENCY_MS, "count": count})
            r["slow_plans"], r["slow_requests"], r["data_plans"] = [], [], []
            try:
                for i in range(repeat):
                    http_json("DELETE", admin + "/requests")
                    r["slow_plans"].append(lk.run(f"plan-refresh-latency{i + 1}", "plan", "-refresh=true",
                                                  "-detailed-exitcode"))
                    r["slow_requests"].append(fake_requests(admin))
                    r["data_plans"].append(dt.run(f"plan-refresh{i + 1}", "plan", "-refresh=true",
                                                  "-detailed-exitcode"))
                pending = http_json("GET", admin + "/faults").get("faults", [])
                r["latency_applied"] = count - sum(f.get("remaining", 0) for f in pending)
            finally:
                http_json("DELETE", admin + "/faults")
            r["slow_plan"] = statistics.median(w for w, _ in r["slow_plans"])
            r["data_plan"] = statistics.median(w for w, _ in r["data_plans"])
            r["plain_plan"] = dp.run("plan-refresh", "plan", "-refresh=true", "-detailed-exitcode")
            log(f"reads {n}: plan with {READS_LATENCY_MS} ms per request, median {r['slow_plan']:.2f} s vs "
                f"link-shaped terraform_data {r['data_plan']:.2f} s ({ratio(r['slow_plan'], r['data_plan'])}); "
                f"latency applied to {r['latency_applied']} requests")
        out["ns"].append(n)
        out["rows"][n] = r


# The provider's default max_concurrent_count (src/resources/org_stackset/model.rs).
DEFAULT_CONCURRENCY = 50
ONBOARDING_GOAL_T = 40  # wall ≤ 40·t at N = 1,000 with the defaults
SEQUENTIAL_PREFS = """  operation_preferences = {
    failure_tolerance_count = 0
    max_concurrent_count    = 1
    concurrency_mode        = "STRICT_FAILURE_TOLERANCE"
  }
"""


def count_429(admin):
    """429 answers in the fake's request log (and the log's own size, discards)."""
    log_ = http_json("GET", admin + "/requests")
    reqs = log_.get("requests", [])
    return {"total": len(reqs), "s429": sum(1 for r in reqs if r.get("status") == 429),
            "errors": sum(1 for r in reqs if not isinstance(r.get("status"), int) or r["status"] >= 400),
            "discarded": log_.get("discarded", 0)}


def call_span(aws):
    """From the emulator's call log: seconds from the first CreateStackInstances to the last
    DescribeStackSetOperation (the operation as the provider saw it end), and the polls."""
    calls = http_json("GET", aws + "/calls").get("calls", [])

    def ts(c):
        return datetime.datetime.strptime(c["time"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
    creates = [ts(c) for c in calls if c.get("action") == "CreateStackInstances"]
    polls = [ts(c) for c in calls if c.get("action") == "DescribeStackSetOperation"]
    span = (max(polls) - min(creates)) if creates and polls else None
    first = min((ts(c) for c in calls), default=None)
    before = (min(creates) - first) if creates and first is not None else None
    actions = collections.Counter(f"{c.get('service')}:{c.get('action')}" for c in calls)
    return {"span": span, "polls": len(polls), "calls": len(calls), "before": before,
            "actions": dict(sorted(actions.items()))}


def bench_onboarding(work, res, ns=(10, 100, 1000), t=0.2, poll_ms=None, rate_limit=None):
    """Wall time of `terraform apply` of one `datadog_aws_org_stackset` (no links) over an
    OU of N member accounts, with the provider's default operation preferences and with
    the sequential ones (AWS's defaults), each in a fresh sandbox whose stack instances
    take t seconds; reported as a multiple of t, with the 429s the template's custom
    resource got from the Datadog fake during the apply.

    poll_ms sets the provider's wait poll interval (TF_DATADOG_POLL_INTERVAL_MS; None = t):
    its own 5 s is 100·t at t = 0.05 s and would hide the operation entirely, while
    against AWS (t of tens of seconds) it is a fraction of t.
    """
    if poll_ms is None:
        poll_ms = max(1, round(t * 1000))
    out = res.setdefault("onboarding", {"ns": [], "t": t, "poll_ms": poll_ms, "rate_limit": rate_limit, "rows": {}})
    poll_env = {"TF_DATADOG_POLL_INTERVAL_MS": str(poll_ms)} if poll_ms > 0 else {}
    for n in ns:
        row_ = {}
        for mode, prefs in (("defaults", ""), ("sequential", SEQUENTIAL_PREFS)):
            with Sandbox(work, f"onboarding-{n}-{mode}", {"SANDBOX_AWS": "1", "SANDBOX_INSTANCE_SECONDS": str(t)}) as sb:
                aws = sb.env["SANDBOX_AWS_ADMIN_URL"]
                dd = sb.env["SANDBOX_DATADOG_ADMIN_URL"]
                ou = http_json("POST", aws + "/ous", {"name": "Onboarding"})["id"]
                made = http_json("POST", aws + "/accounts", {"name": "onb", "ou_id": ou, "count": n})
                cfg = REQUIRED_PROVIDERS + f"""
resource "datadog_aws_org_stackset" "org" {{
  name                    = "DatadogIntegration"
  region                  = "us-east-1"
  organizational_unit_ids = ["{ou}"]
{prefs}}}
"""
                tf = TfDir(work, f"onb{n}-{mode}", sb, cfg)
                if rate_limit:  # the fake's enforced per-key limit (off by default: advertised only)
                    http_json("POST", dd + "/rate-limit", {"limit": rate_limit[0], "period_seconds": rate_limit[1]})
                http_json("DELETE", dd + "/requests")
                http_json("DELETE", aws + "/calls")
                t0 = time.monotonic()
                try:
                    wall, usage = tf.run("apply", "apply", "-auto-approve", extra_env=poll_env,
                                         timeout=max(900, int(n * t * 3) + 600))
                except RuntimeError as e:  # e.g. instances failed on 429s under an enforced limit: reported
                    wall, usage = time.monotonic() - t0, {"rc": 1, "cpu": 0.0, "procs": 0, "rss_kb": 0,
                                                          "summary": f"failed: {e}"[:200]}
                q = count_429(dd)
                cs = call_span(aws)
                sets = http_json("GET", aws + "/stacksets").get("stack_sets", [])
                inst = sum(s.get("instances", 0) if isinstance(s.get("instances"), int)
                           else len(s.get("instances") or []) for s in sets)
                dd_accounts = len(http_json("GET", dd + "/accounts").get("accounts", []))
                r = {"wall": wall, "usage": usage, "requests": q, "instances": inst, "created": len(made.get("ids") or []),
                     "dd_accounts": dd_accounts, "aws": cs}
                log(f"onboarding N={n} {mode}: {wall:.2f} s = {wall / t:.1f}·t; {inst} instances, "
                    f"{dd_accounts} Datadog accounts; operation span {cs['span'] if cs['span'] is None else round(cs['span'], 2)} s, {cs['polls']} polls; Datadog requests {q['total']}, 429s {q['s429']}")
                row_[mode] = r
        out["ns"].append(n)
        out["rows"][n] = row_


def read_handshake(argv, env):
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    line = p.stdout.readline()
    dt = time.perf_counter() - t0
    hwm = 0
    try:
        with open(f"/proc/{p.pid}/status") as f:
            for l in f:
                if l.startswith("VmHWM:"):
                    hwm = int(l.split()[1])
    except OSError:
        pass
    p.kill()
    p.wait()
    fields = line.decode(errors="replace").strip().split("|") if line else []
    if len(fields) >= 4 and fields[2] == "unix" and os.path.basename(fields[3]).startswith("plugin-"):
        try:  # SIGKILL leaves the provider's socket behind
            os.unlink(fields[3])
        except OSError:
            pass
    if not fields:
        shape = "EOF"
    else:
        shape = "|".join(fields[:3] + ["<path>"] + fields[4:5])
        if len(fields) > 5:
            shape += "|" + ("<server cert>" if fields[5] else "")
    return dt, shape, hwm


def bench_startup(work, res, n=50):
    cert_dir = os.path.join(work.root, "cert")
    os.makedirs(cert_dir)
    key, crt = os.path.join(cert_dir, "key.pem"), os.path.join(cert_dir, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(crt) as f:
        cert_pem = f.read()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PLUGIN_"))}
    base.update({"TF_PLUGIN_MAGIC_COOKIE": MAGIC, "PLUGIN_PROTOCOL_VERSIONS": "6"})
    out = {}
    cases = (
        ("plain", [PROVIDER], base),
        ("mtls", [PROVIDER], dict(base, PLUGIN_CLIENT_CERT=cert_pem)),
        ("echo", ["/bin/echo", "1|6|unix|/tmp/x|grpc|"], base),
        ("true", ["true"], base),
    )
    for _ in range(2):  # warm the page cache
        for _, argv, env in cases:
            read_handshake(argv, env)
    for name, argv, env in cases:
        times, hwms, lines = [], [], set()
        for _ in range(n):
            dt, line, hwm = read_handshake(argv, env)
            times.append(dt)
            hwms.append(hwm)
            lines.add(line)
        out[name] = {"median": statistics.median(times), "p90": sorted(times)[int(n * 0.9) - 1],
                     "min": min(times), "rss_kb": max(hwms), "lines": sorted(lines)}
        log(f"startup {name}: median {out[name]['median'] * 1000:.2f} ms, min {out[name]['min'] * 1000:.2f} ms, "
            f"VmHWM {mb(out[name]['rss_kb'])}, line {sorted(lines)}")
    res["startup"] = out


def bench_scale(work, res, ous=50, per_ou=100, organization=False):
    seed = {"trusted_access": True,
            "organizational_units": [{"name": f"Bench{i:02d}", "accounts": per_ou} for i in range(ous)]}
    seed_file = os.path.join(work.root, "seed-scale.json")
    with open(seed_file, "w") as f:
        json.dump(seed, f)
    with Sandbox(work, "scale", {"SANDBOX_AWS": "1", "SANDBOX_SEED": seed_file,
                                 "SANDBOX_INSTANCE_SECONDS": "0"}) as sb:
        root = sb.env["SANDBOX_ROOT_ID"]
        admin = sb.env["SANDBOX_AWS_ADMIN_URL"]
        cfg = REQUIRED_PROVIDERS + f"""
resource "datadog_aws_org_stackset" "org" {{
  name                    = "DatadogIntegration"
  region                  = "us-east-1"
  organizational_unit_ids = ["{root}"]
  operation_preferences = {{
    max_concurrent_percentage    = 100
    failure_tolerance_percentage = 100
    concurrency_mode             = "SOFT_FAILURE_TOLERANCE"
  }}
}}
"""
        tf = TfDir(work, "scale", sb, cfg)
        r = {"ous": ous, "per_ou": per_ou}
        r["apply"] = tf.run("apply", "apply", "-auto-approve", timeout=1200)
        sets = http_json("GET", admin + "/stacksets")
        r["instances"] = sum(s.get("instances", 0) if isinstance(s.get("instances"), int)
                             else len(s.get("instances") or []) for s in sets.get("stack_sets", []))
        http_json("DELETE", admin + "/calls")
        r["plan"] = tf.run("plan-refresh", "plan", "-refresh=true", "-detailed-exitcode")
        calls = http_json("GET", admin + "/calls")
        if DEBUG_LOGS:
            debug_plan(tf)
        c = collections.Counter(f"{x.get('service')}:{x.get('action')}" for x in calls.get("calls", []))
        r["calls"] = dict(sorted(c.items()))
        r["calls_total"] = sum(c.values())
        r["calls_discarded"] = calls.get("discarded", 0)
        r["calls_errors"] = sum(1 for x in calls.get("calls", []) if x.get("error"))
        if organization:
            res["organization"] = bench_organization(work, sb, r)
    log(f"scale: {r['instances']} instances; plan calls {r['calls_total']}: {r['calls']}")
    res["scale"] = r


ORGANIZATION_READ = REQUIRED_PROVIDERS + """
data "datadog_aws_organization" "org" {
  stackset_name = "DatadogIntegration"
  region        = "us-east-1"
}

output "accounts" {
  value = length(data.datadog_aws_organization.org.accounts)
}

output "covered" {
  value = length([for a in data.datadog_aws_organization.org.accounts : a.id if a.stack_instance != null])
}

output "in_datadog" {
  value = length([for a in data.datadog_aws_organization.org.accounts : a.id if a.datadog != null])
}
"""


def bench_organization(work, sb, scale):
    """One read of `data "datadog_aws_organization"` over the scale section's organization
    (its StackSet, its instances, the accounts their stacks registered in Datadog), against
    that section's StackSet plan in the same sandbox: both walk the organization and list
    the instances, so the AWS calls should match and the time be of the same order; the
    Datadog requests should be one, whatever the number of accounts."""
    aws, dd = sb.env["SANDBOX_AWS_ADMIN_URL"], sb.env["SANDBOX_DATADOG_ADMIN_URL"]
    tf = TfDir(work, "organization", sb, ORGANIZATION_READ)
    http_json("DELETE", aws + "/calls")
    http_json("DELETE", dd + "/requests")
    r = {"read": tf.run("read", "apply", "-auto-approve")}
    calls = http_json("GET", aws + "/calls")
    c = collections.Counter(f"{x.get('service')}:{x.get('action')}" for x in calls.get("calls", []))
    r["calls"] = dict(sorted(c.items()))
    r["calls_total"] = sum(c.values())
    r["calls_discarded"] = calls.get("discarded", 0)
    r["requests"] = fake_requests(dd)
    out = subprocess.run([TERRAFORM, "output", "-json"], cwd=tf.dir, env=tf.env, capture_output=True, text=True, check=True)
    r["outputs"] = {k: v.get("value") for k, v in json.loads(out.stdout).items()}
    r["baseline"] = {"plan": scale["plan"], "calls_total": scale["calls_total"], "instances": scale["instances"]}
    log(f"organization: {r['outputs']}; AWS calls {r['calls_total']} (StackSet plan: {scale['calls_total']}), "
        f"Datadog requests {r['requests']['total']}")
    return r


def bench_size(work, res):
    size = os.path.getsize(PROVIDER)
    stripped = os.path.join(work.root, "provider.stripped")
    try:
        subprocess.run(["strip", "-o", stripped, PROVIDER], check=True)
        ssize = os.path.getsize(stripped)
    except (OSError, subprocess.CalledProcessError):
        ssize = None
    res["size"] = {"file": size, "stripped": ssize}
    log(f"size: {size} bytes as built, {ssize} stripped")


# --------------------------------------------------------------------------- report


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    try:
        v = json.loads(subprocess.run([TERRAFORM, "version", "-json"], capture_output=True, text=True,
                                      check=True).stdout)["terraform_version"]
    except Exception as e:  # noqa: BLE001 - reported as is
        v = f"unknown ({e})"
    return {"nproc": os.cpu_count(), "cpu": model, "mem": mem, "terraform": v,
            "kernel": platform.release(), "date": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC"), "load": os.getloadavg()}


def report(res, path, total):
    m = res["machine"]
    L = []
    L.append("# Benchmark results\n")
    L.append("Written by `make bench` (`scripts/bench`, `bench/run.py`); numbers from one run on the "
             "machine below. Wall times are compared as ratios against a baseline measured in the same "
             "run, never asserted.\n")
    L.append(f"- Machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}, {m['mem']} RAM, Linux {m['kernel']}, "
             f"load average at start {m['load'][0]:.2f}")
    L.append(f"- Terraform: {m['terraform']} (pinned, `scripts/terraform`)")
    L.append(f"- Date: {m['date']}; whole run {total:.0f} s")
    L.append("- Provider CPU time and peak RSS: `/usr/bin/time -v` around every provider process "
             "Terraform starts (CPU summed, RSS the maximum over the command's processes)\n")
    L.append("| # | figure | measured | baseline (same run) | ratio | target | met |")
    L.append("|---|---|---|---|---|---|---|")

    def row(i, fig, meas, base, rat, target, met):
        L.append(f"| {i} | {fig} | {meas} | {base} | {rat} | {target} | {met} |")

    yes = lambda b: "yes" if b else "**no**"  # noqa: E731
    o = res.get("overhead")
    if o:
        lk, dt = o["rows"]["links"], o["rows"]["data"]
        n = o["n"]
        pw, bw = lk["plan"][0], dt["plan"][0]
        row("1", f"`plan -refresh=true`, {n} `datadog_aws_account_link` vs {n} `terraform_data`",
            f"{pw:.2f} s", f"{bw:.2f} s", ratio(pw, bw), "≤ 1.5x", yes(pw / bw <= 1.5))
        for k, label in (("apply50", "apply -parallelism=50"), ("destroy50", "destroy -parallelism=50"),
                         ("apply10", "apply -parallelism=10"), ("destroy10", "destroy -parallelism=10")):
            a, b = lk[k][0], dt[k][0]
            row("1", f"{label}, {n} links vs {n} `terraform_data`", f"{a:.2f} s", f"{b:.2f} s", ratio(a, b),
                "(info)", "")
        pu = lk["plan"][1]
        row("1", f"provider CPU in the {n}-link plan", f"{pu['cpu']:.2f} s", f"{pw:.2f} s wall", 
            f"{pu['cpu'] / pw:.2f} of wall" if pw else "n/a", "(info)", "")
        if "data_sized" in o["rows"]:
            sz = o["rows"]["data_sized"]
            row("1", f"`plan -refresh=true`, {n} links vs {n} `terraform_data` holding a link-shaped object",
                f"{pw:.2f} s", f"{sz['plan'][0]:.2f} s", ratio(pw, sz["plan"][0]), "(info)", "")
            a, b, c = lk["plan_norefresh"][0], dt["plan_norefresh"][0], sz["plan_norefresh"][0]
            row("1", f"`plan -refresh=false` (no Datadog calls), {n} links vs plain / link-shaped `terraform_data`",
                f"{a:.2f} s", f"{b:.2f} s / {c:.2f} s", f"{ratio(a, b)} / {ratio(a, c)}", "(info)", "")
        if "tf_cpu" in pu and "tf_cpu" in dt["plan"][1]:
            tc, bc = pu["tf_cpu"], dt["plan"][1]["tf_cpu"]
            row("1", f"Terraform's own CPU in the {n}-link plan vs the `terraform_data` plan", f"{tc:.2f} s",
                f"{bc:.2f} s", ratio(tc, bc), "(info)", "")
    s = res.get("startup")
    if s:
        for k, label in (("plain", "plain"), ("mtls", "AutoMTLS (P-521 client cert)")):
            med, base = s[k]["median"], s["echo"]["median"]
            row("2", f"start-up to handshake, median of 50, {label}", f"{med * 1000:.2f} ms",
                f"{base * 1000:.2f} ms (`/bin/echo`; `true` {s['true']['median'] * 1000:.2f} ms)",
                ratio(med, base), "< 10 ms", yes(med < 0.010))
    sc = res.get("scale")
    if sc:
        pages = -(-sc["instances"] // 100)
        lsi = sc["calls"].get("cloudformation:ListStackInstances", 0)
        cpu = sc["plan"][1]["cpu"]
        row("3", f"provider CPU, `plan` of one StackSet with {sc['instances']} instances ({sc['ous']} OUs)",
            f"{cpu:.2f} s", f"{sc['plan'][0]:.2f} s wall", f"{cpu / sc['plan'][0]:.2f} of wall"
            if sc["plan"][0] else "n/a", "< 2 s", yes(cpu < 2))
        # The fewest pages any walk can take: Organizations pages 20 accounts or OUs at
        # a time per parent (root, then each OU, with at least one page each); stack
        # instances come 100 to a page.
        per_ou = sc.get("per_ou", 100)
        org_pages = 1 + -(-sc["ous"] // 20) + sc["ous"] * (-(-per_ou // 20) + 1)
        lists = sum(v for k, v in sc["calls"].items() if k.split(":")[1].startswith("List"))
        other = sc["calls_total"] - lists
        row("3", "AWS API calls in that plan", f"{sc['calls_total']}: ListStackInstances {lsi}, "
            f"Organizations List* {lists - lsi}, non-List {other}",
            f"{pages + org_pages} pages ({pages} of instances, {org_pages} of the organization)",
            f"{sc['calls_total'] - pages - org_pages} beyond the pages",
            "pages + constant", yes(lsi <= pages + 1 and sc["calls_total"] - pages - org_pages <= 10))
        row("3", f"apply of that StackSet (create + wait for {sc['instances']} instances)",
            f"{sc['apply'][0]:.1f} s", "", "", "(info)", "")
    og = res.get("organization")
    if og:
        b, out = og["baseline"], og["outputs"]
        q = og["requests"]
        row("8", f"AWS API calls, one read of `data \"datadog_aws_organization\"` over {out.get('accounts')} accounts "
            f"({out.get('covered')} with an instance, {out.get('in_datadog')} in Datadog) vs the StackSet's plan (figure 3)",
            f"{og['calls_total']}", f"{b['calls_total']}", ratio(og["calls_total"], b["calls_total"]),
            "≤ 1.1x (pages, nothing per account)", yes(og["calls_total"] <= 1.1 * b["calls_total"]))
        row("8", "Datadog requests in that read (fake's request log)",
            f"{q['total']}: listing {q['kinds']['listing']}, validate {q['kinds']['validate']}, "
            f"other {q['kinds']['other'] + q['kinds']['get-by-id']}", f"{out.get('accounts')} accounts", "",
            "listing 1, nothing else per account", yes(q["kinds"]["listing"] == 1 and q["kinds"]["get-by-id"] == 0
                                                       and q["kinds"]["other"] == 0))
        w, bw = og["read"][0], b["plan"][0]
        row("8", "wall time of that read (`apply` of the data source alone) vs the StackSet's plan (figure 3)",
            f"{w:.2f} s", f"{bw:.2f} s", ratio(w, bw), "(info)", "")
        row("8", "provider CPU and peak RSS of that read", f"{og['read'][1]['cpu']:.2f} s",
            mb(og["read"][1]["rss_kb"]), "", "(info)", "")
    rs = []
    if o:
        rs.append(("4", f"peak RSS, provider, {o['n']}-link plan", o["rows"]["links"]["plan"][1]["rss_kb"], "< 40 MB",
                   o["rows"]["links"]["plan"][1]["rss_kb"] < 40 * 1024))
        rs.append(("4", f"peak RSS, provider, {o['n']}-link apply -parallelism=50",
                   o["rows"]["links"]["apply50"][1]["rss_kb"], "(info)", None))
        rs.append(("4", f"peak RSS, provider, {o['n']}-link destroy -parallelism=50",
                   o["rows"]["links"]["destroy50"][1]["rss_kb"], "(info)", None))
    if s:
        rs.append(("4", "peak RSS (VmHWM at handshake), start-up plain", s["plain"]["rss_kb"], "(info)", None))
        rs.append(("4", "peak RSS (VmHWM at handshake), start-up AutoMTLS", s["mtls"]["rss_kb"], "(info)", None))
    if sc:
        rs.append(("4", f"peak RSS, provider, {sc['instances']}-instance StackSet apply", sc["apply"][1]["rss_kb"], "(info)", None))
        rs.append(("4", f"peak RSS, provider, {sc['instances']}-instance StackSet plan", sc["plan"][1]["rss_kb"], "(info)", None))
    for i, fig, kb, target, met in rs:
        row(i, fig, mb(kb), "", "", target, "" if met is None else yes(met))
    z = res.get("size")
    if z:
        row("5", "release binary, stripped (`strip = true` in the profile; `strip` again)",
            f"{z['stripped'] / 1e6:.2f} MB" if z["stripped"] else "n/a",
            f"{z['file'] / 1e6:.2f} MB as built", "", "(info)", "")
    rd = res.get("reads")
    if rd:
        for n in rd["ns"]:
            r = rd["rows"][n]
            q = r["requests"]
            k = q["kinds"]
            row("6", f"Datadog requests in one `plan -refresh=true` of {n} links ({r['plan'][1]['procs']} provider "
                "processes; fake's request log)",
                f"{q['total']}: listing {k['listing']}, get-by-id {k['get-by-id']}, validate {k['validate']}, "
                f"other {k['other']}", f"{n} links in state", "", f"≤ {READS_GOAL_REQUESTS}",
                yes(q["total"] <= READS_GOAL_REQUESTS))
            sw, dw = r["slow_plan"], r["data_plan"]
            row("6", f"`plan -refresh=true`, {n} links with {rd['latency_ms']} ms injected per Datadog request vs {n} "
                f"`terraform_data` holding a link-shaped object (median of {len(r['slow_plans'])})",
                f"{sw:.2f} s", f"{dw:.2f} s", ratio(sw, dw), f"≤ {READS_GOAL_RATIO}x",
                yes(dw and sw / dw <= READS_GOAL_RATIO))
            lc, dc = reads_cpu(r)
            row("6", f"CPU (Terraform + provider) of those plans, median, {n} links vs {n} link-shaped `terraform_data`",
                f"{lc:.2f} s", f"{dc:.2f} s", ratio(lc, dc), "(info)", "")
            pw = r["plan"][0]
            row("6", f"`plan -refresh=true`, {n} links without injected latency (one plan) vs the same baseline",
                f"{pw:.2f} s", f"{dw:.2f} s", ratio(pw, dw), "(info)", "")
            if "plain_plan" in r:
                row("6", f"`plan -refresh=true`, {n} plain `terraform_data` (one string each) over the same `for_each`"
                    " keys: Terraform's own cost of the iteration (one plan)", f"{r['plain_plan'][0]:.2f} s", "", "",
                    "(info)", "")
    ob = res.get("onboarding")
    if ob:
        t = ob["t"]
        for n in ob["ns"]:
            r = ob["rows"][n]
            d, q = r["defaults"], r["sequential"]
            goal = n >= 1000
            row("7", f"`apply` of one `datadog_aws_org_stackset` over {n} member accounts (t = {t:g} s per "
                f"instance), defaults ({DEFAULT_CONCURRENCY} at a time, SOFT) vs sequential (1 at a time, STRICT), wall / t",
                f"{d['wall'] / t:.0f}·t ({d['wall']:.2f} s)", f"{q['wall'] / t:.0f}·t ({q['wall']:.2f} s)",
                ratio(d["wall"], q["wall"]), f"≤ {ONBOARDING_GOAL_T}·t" if goal else "(info)",
                yes(d["wall"] / t <= ONBOARDING_GOAL_T) if goal else "")
            row("7", f"Datadog 429s during those applies, {n} accounts (fake's request log), defaults vs sequential",
                f"{d['requests']['s429']} of {d['requests']['total']}",
                f"{q['requests']['s429']} of {q['requests']['total']}", "", "(info)", "")
    L.append("")
    if o and "data_sized" in o["rows"]:
        L.extend(overhead_reading(o))
    if rd:
        L.extend(reads_reading(rd))
    if ob:
        L.extend(onboarding_detail(ob))
    if o:
        L.append("## 1. Plugin overhead, all commands\n")
        L.append("| config | command | wall | Terraform CPU | provider CPU | provider peak RSS | provider processes | exit |")
        L.append("|---|---|---|---|---|---|---|---|")
        for name in o["rows"]:
            for k, (w, u) in o["rows"][name].items():
                tfc = f"{u['tf_cpu']:.2f} s" if "tf_cpu" in u else "n/a"
                L.append(f"| {name} | {k} | {w:.2f} s | {tfc} | {u['cpu']:.2f} s | {mb(u['rss_kb'])} | {u['procs']} |"
                         f" {u.get('rc', '')} |")
        L.append("")
    if og:
        L.append(f"## 8. AWS API calls of one `datadog_aws_organization` read ({og['outputs'].get('accounts')} "
                 "accounts, emulator call log)\n")
        L.append("| service:action | calls |")
        L.append("|---|---|")
        for k, v in og["calls"].items():
            L.append(f"| {k} | {v} |")
        L.append(f"| **total** | {og['calls_total']} (discarded {og['calls_discarded']}) |")
        L.append("")
    if sc:
        L.append(f"## 3. AWS API calls during the {sc['instances']}-instance plan (emulator call log)\n")
        L.append(f"`plan -detailed-exitcode` exit {sc['plan'][1].get('rc')} (0 = no changes); "
                 f"{sc['plan'][1]['procs']} provider processes.\n")
        L.append("| service:action | calls |")
        L.append("|---|---|")
        for k, v in sc["calls"].items():
            L.append(f"| {k} | {v} |")
        L.append(f"| **total** | {sc['calls_total']} (errors {sc['calls_errors']}, "
                 f"discarded {sc['calls_discarded']}) |")
        L.append("")
    if s:
        L.append("## 2. Start-up detail (50 starts each)\n")
        L.append("| case | median | p90 | min | first line's shape |")
        L.append("|---|---|---|---|---|")
        for k, v in s.items():
            L.append(f"| {k} | {v['median'] * 1000:.2f} ms | {v['p90'] * 1000:.2f} ms | {v['min'] * 1000:.2f} ms "
                     f"| {', '.join('`' + x.replace('|', chr(92) + '|') + '`' for x in v['lines'])} |")
        L.append("")
    if rd:
        L.extend(reads_detail(rd))
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(L))


def overhead_reading(o):
    """What the plan figures say about the ≤ 1.5x target, in words."""
    lk, dt, sz = o["rows"]["links"], o["rows"]["data"], o["rows"]["data_sized"]
    pw, bw, sw = lk["plan"][0], dt["plan"][0], sz["plan"][0]
    nw, bnw = lk["plan_norefresh"][0], dt["plan_norefresh"][0]
    pc, tc = lk["plan"][1]["cpu"], lk["plan"][1].get("tf_cpu", 0.0)
    met = pw / bw <= 1.5 if bw else False
    return [
        "### Reading of target 1\n",
        f"The {o['n']}-link plan took {ratio(pw, bw)} the plain `terraform_data` plan"
        + (" (met)." if met else " (missed)."),
        f"The provider's own CPU time was {pc:.2f} s of {pw:.2f} s wall; Terraform's was {tc:.2f} s."
        f" Without refresh (no Datadog call at all) the ratio is still {ratio(nw, bnw)}, so the gap is not"
        " the Datadog round trips. Given the same data, `terraform_data` holding a link-shaped object"
        f" (one per resource) plans in {sw:.2f} s: the links plan is {ratio(pw, sw)} of that. What costs is"
        " Terraform's work per attribute (a link carries about 30 values in nested objects and sets, plain"
        " `terraform_data` one string), not the plugin protocol or the provider; the provider cannot shrink"
        " it without dropping attributes users configure.\n",
    ]


def reads_cpu(r):
    """Median CPU (Terraform + provider) of the links plans with latency and of the baseline's plans."""
    return (statistics.median(u.get("tf_cpu", 0.0) + u["cpu"] for _, u in r["slow_plans"]),
            statistics.median(u.get("tf_cpu", 0.0) + u["cpu"] for _, u in r["data_plans"]))


def reads_reading(rd):
    """What the request counts and the plans with latency say about target 6, in words."""
    L = ["### Reading of target 6\n"]
    for n in rd["ns"]:
        r = rd["rows"][n]
        q, k = r["requests"], r["requests"]["kinds"]
        sw, dw, pw = r["slow_plan"], r["data_plan"], r["plan"][0]
        slow = ", ".join(f"{w:.2f}" for w, _ in r["slow_plans"])
        data = ", ".join(f"{w:.2f}" for w, _ in r["data_plans"])
        per_plan = sorted({x["faulted"] for x in r["slow_requests"]})
        pairs = ", ".join(ratio(a[0], b[0]) for a, b in zip(r["slow_plans"], r["data_plans"]))
        met_q = q["total"] <= READS_GOAL_REQUESTS
        met_r = bool(dw) and sw / dw <= READS_GOAL_RATIO
        L.append(
            f"N = {n}: the refresh plan made {q['total']} Datadog requests (listing {k['listing']}, get-by-id "
            f"{k['get-by-id']}, validate {k['validate']}, other {k['other']}) over {r['plan'][1]['procs']} provider "
            f"processes, against the goal of ≤ {READS_GOAL_REQUESTS}" + (" (met)" if met_q else " (missed)") + "."
            f" With {rd['latency_ms']} ms injected on every Datadog request (the fake's latency fault, applied to "
            f"{'/'.join(str(x) for x in per_plan)} requests per plan), the plan took {sw:.2f} s (median of {slow} s)"
            f" against {dw:.2f} s (median of {data} s) for {n} `terraform_data` holding a link-shaped object:"
            f" {ratio(sw, dw)}, goal ≤ {READS_GOAL_RATIO}x" + (" (met)" if met_r else " (missed)") + "; plan by plan"
            f" (interleaved pairs) {pairs}. In CPU (Terraform + provider, medians) it was"
            f" {ratio(*reads_cpu(r))}. Without latency the same plan took {pw:.2f} s ({ratio(pw, dw)}).\n")
    for n in rd["ns"]:
        r = rd["rows"][n]
        plans = [r["plan"]] + r["slow_plans"]
        changed = sorted({u.get("summary", "") for _, u in plans if u.get("rc") == 2})
        if changed:
            L.append(f"At N = {n} the links plans right after the apply were not empty ({'; '.join(changed)}), so"
                     " their wall times include planning and rendering those updates, which the baseline plans"
                     " (" + "; ".join(sorted({u.get("summary", "") for _, u in r["data_plans"]})) + ") do not.\n")
    totals = {n: rd["rows"][n]["requests"]["total"] for n in rd["ns"]}
    if len(rd["ns"]) > 1:
        if len(set(totals.values())) == 1:
            L.append(f"The count was the same at every N ({next(iter(totals.values()))}).")
        else:
            L.append("The count changed with N: " + ", ".join(f"{v} at N = {n}" for n, v in totals.items()) + ".")
        L.append("")
    for n in rd["ns"]:
        r = rd["rows"][n]
        extra = r["slow_plan"] - r["plan"][0]
        k = max(x["faulted"] for x in r["slow_requests"])
        walls = [w for w, _ in r["data_plans"]]
        L.append(f"At N = {n}, {k} requests × {rd['latency_ms']} ms add at most {k * rd['latency_ms'] / 1000:.2f} s to a"
                 f" plan (if made one after another); the median plan with latency was {extra:+.2f} s from the one plan"
                 f" without, while the baseline's own {len(walls)} plans spread over {max(walls) - min(walls):.2f} s.")
        if "plain_plan" in r:
            pw_, pu = r["plain_plan"]
            pc, dc = pu.get("tf_cpu", 0.0), reads_cpu(r)[1]
            L.append(f"Plain `terraform_data` over the same {n} `for_each` keys (one string each) planned in"
                     f" {pw_:.2f} s wall, {pc:.2f} s CPU, against {dc:.2f} s CPU for the link-shaped baseline: Terraform"
                     f" iterating `for_each` alone is {pc / dc if dc else 0:.0%} of the baseline's CPU at this N, before"
                     " any attribute or provider work.")
        L.append("")
    return L


def onboarding_detail(ob):
    t = ob["t"]

    def span(r):
        x = r.get("aws", {}).get("span")
        return "n/a" if x is None else f"{x:.2f} s ({x / t:.0f}·t)"

    def before(r):
        x = r.get("aws", {}).get("before")
        return "n/a" if x is None else f"{x:.2f} s"
    L = [f"### 7. Onboarding: one StackSet over N accounts, t = {t:g} s per stack instance\n",
         "Each (N, preferences) in its own sandbox: an OU made through the emulator's admin API with N member "
         "accounts (`POST /_emulator/accounts` with `count`), a `datadog_aws_org_stackset` alone targeting that OU "
         "(no links), `SANDBOX_INSTANCE_SECONDS` = t. `defaults` leaves `operation_preferences` out (the provider's "
         f"{DEFAULT_CONCURRENCY} at a time, tolerance 100 %, SOFT); `sequential` sets `failure_tolerance_count = 0, max_concurrent_count "
         "= 1, STRICT_FAILURE_TOLERANCE` (AWS's defaults). The fake's request log is cleared before each apply; "
         + ("the fake does not enforce its rate limit (429s only from injected faults, none here). " if not ob.get("rate_limit")
            else f"the fake enforced {ob['rate_limit'][0]} requests per {ob['rate_limit'][1]} s per key. ")
         + "The provider polls "
         "the operation every " + (f"{ob.get('poll_ms')} ms (`TF_DATADOG_POLL_INTERVAL_MS`; its own 5 s would be "
         f"{5 / t:.0f}·t here)" if ob.get("poll_ms") else "5 s (its own default)") + ". "
         "`CreateStackInstances → last poll` comes from the emulator's call log (cleared before each apply): "
         "the operation as the provider waited for it; the rest of the wall time is Terraform, the provider's "
         "start-up and its calls before (from the first AWS call of the apply to `CreateStackInstances`) and after.\n",
         "| N | preferences | wall | wall / t | stack instances | Datadog accounts | Datadog requests | 429s "
         "| AWS calls: first → CreateStackInstances | CreateStackInstances → last poll | polls | AWS calls | provider CPU | provider processes | Terraform's summary |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in ob["ns"]:
        for mode in ("defaults", "sequential"):
            r = ob["rows"][n][mode]
            u, q = r["usage"], r["requests"]
            L.append(f"| {n} | {mode} | {r['wall']:.2f} s | {r['wall'] / t:.0f} | {r['instances']} | "
                     f"{r['dd_accounts']} | {q['total']} | {q['s429']} | "
                     f"{before(r)} | {span(r)} | {r.get('aws', {}).get('polls', '')} | {r.get('aws', {}).get('calls', '')} | {u['cpu']:.2f} s | {u['procs']} "
                     f"| {u.get('summary', '')} |")
    L.append("")
    L.append("AWS calls of each apply, by action (emulator call log):\n")
    L.append("| N | preferences | calls |")
    L.append("|---|---|---|")
    for n in ob["ns"]:
        for mode in ("defaults", "sequential"):
            a = ob["rows"][n][mode].get("aws", {}).get("actions", {})
            L.append(f"| {n} | {mode} | " + ", ".join(f"{k} {v}" for k, v in a.items()) + " |")
    L.append("")
    return L


def reads_detail(rd):
    L = [f"## 6. Datadog requests per refresh and plans with {rd['latency_ms']} ms per request\n",
         "Each N in its own Datadog-only sandbox; links are `for_each` over N account ids with only "
         "`aws_account_id` set; the baseline (`data_sized`) is N `terraform_data` (same ids) holding a link-shaped "
         "object; `data_plain` holds just the id, to show what the `for_each` iteration itself costs Terraform. "
         "`requests` are the fake's request log for that command (cleared before it); `latency` plans ran with a "
         f"{rd['latency_ms']} ms latency fault on every Datadog request, interleaved with the baseline plans.\n",
         "| N | config | command | wall | Terraform CPU | provider CPU | provider peak RSS | provider processes "
         "| exit | Terraform's summary | Datadog requests |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]

    def line(n, name, label, wu, q=None):
        w, u = wu
        tfc = f"{u['tf_cpu']:.2f} s" if "tf_cpu" in u else "n/a"
        qs = ""
        if q:
            qs = f"{q['total']} (" + ", ".join(f"{k} {v}" for k, v in q["kinds"].items() if v) + ")"
            if q["faulted"]:
                qs += f", {q['faulted']} with latency"
            if q["errors"]:
                qs += f", {q['errors']} errors"
            if q["discarded"]:
                qs += f", {q['discarded']} discarded"
        L.append(f"| {n} | {name} | {label} | {w:.2f} s | {tfc} | {u['cpu']:.2f} s | {mb(u['rss_kb'])} "
                 f"| {u['procs']} | {u.get('rc', '')} | {u.get('summary', '')} | {qs} |")

    for n in rd["ns"]:
        r = rd["rows"][n]
        line(n, "links", "apply -parallelism=50", r["apply"])
        line(n, "data_sized", "apply -parallelism=50", r["data_apply"])
        if "plain_apply" in r:
            line(n, "data_plain", "apply -parallelism=50", r["plain_apply"])
        line(n, "links", "plan -refresh=true", r["plan"], r["requests"])
        for i, (wu, q) in enumerate(zip(r["slow_plans"], r["slow_requests"])):
            line(n, "links", f"plan -refresh=true, latency ({i + 1})", wu, q)
        for i, wu in enumerate(r["data_plans"]):
            line(n, "data_sized", f"plan -refresh=true ({i + 1})", wu)
        if "plain_plan" in r:
            line(n, "data_plain", "plan -refresh=true", r["plain_plan"])
    L.append("")
    L.append("Requests of the plan without latency, by method and path (ids as `{id}`):\n")
    L.append("| N | request | count |")
    L.append("|---|---|---|")
    for n in rd["ns"]:
        for k, v in rd["rows"][n]["requests"]["shapes"].items():
            L.append(f"| {n} | `{k}` | {v} |")
    L.append("")
    return L


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="overhead,startup,scale,size,reads,onboarding,organization",
                    help="sections; organization reads the scale section's organization (5,000 accounts by "
                         "default, --ous x --per-ou) in the same sandbox, so it adds one read, not a second "
                         "apply, and runs the scale section's set-up when asked for alone")
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "RESULTS.md"))
    ap.add_argument("--links", type=int, default=1000, help="resources in the overhead benchmark")
    ap.add_argument("--ous", type=int, default=50, help="OUs in the scale benchmark")
    ap.add_argument("--per-ou", type=int, default=100, help="accounts per OU in the scale benchmark")
    ap.add_argument("--reads-n", default="200,1000",
                    help="comma-separated link counts of the reads benchmark (e.g. 50 for a quick check)")
    ap.add_argument("--reads-repeat", type=int, default=3,
                    help="plans per config with latency in the reads benchmark (the median is reported)")
    ap.add_argument("--onboarding-n", default="10,100,1000",
                    help="comma-separated member-account counts of the onboarding benchmark")
    ap.add_argument("--instance-seconds", type=float, default=0.2,
                    help="t: seconds one stack instance takes in the onboarding benchmark")
    ap.add_argument("--onboarding-poll-ms", type=int, default=None,
                    help="provider poll interval in the onboarding benchmark (default: t; 0 = the provider's own 5 s)")
    ap.add_argument("--onboarding-rate-limit", default="",
                    help="LIMIT/SECONDS: have the Datadog fake enforce that per-key limit during the onboarding "
                         "applies (default: advertised only, so 429s only from faults)")
    ap.add_argument("--debug-logs", action="store_true",
                    help="also run an unmeasured plan with TF_LOG_PROVIDER=DEBUG (log kept with BENCH_KEEP=1)")
    args = ap.parse_args()
    global DEBUG_LOGS
    DEBUG_LOGS = args.debug_logs
    only = set(args.only.split(","))
    unknown = only - {"overhead", "startup", "scale", "size", "reads", "onboarding", "organization"}
    if unknown:
        sys.exit(f"bench: unknown --only section(s): {', '.join(sorted(unknown))}")
    try:
        reads_n = [int(x) for x in args.reads_n.split(",") if x.strip()]
    except ValueError:
        sys.exit(f"bench: --reads-n wants comma-separated integers, got {args.reads_n!r}")
    if not reads_n or min(reads_n) < 1 or args.reads_repeat < 1:
        sys.exit("bench: --reads-n and --reads-repeat must be at least 1")
    try:
        onboarding_n = [int(x) for x in args.onboarding_n.split(",") if x.strip()]
    except ValueError:
        sys.exit(f"bench: --onboarding-n wants comma-separated integers, got {args.onboarding_n!r}")
    rate_limit = None
    if args.onboarding_rate_limit:
        m = re.match(r"^(\d+)/(\d+)$", args.onboarding_rate_limit)
        if not m:
            sys.exit("bench: --onboarding-rate-limit wants LIMIT/SECONDS, e.g. 25/1")
        rate_limit = (int(m.group(1)), int(m.group(2)))
    if not onboarding_n or min(onboarding_n) < 1 or args.instance_seconds <= 0:
        sys.exit("bench: --onboarding-n must be at least 1 and --instance-seconds above 0")
    for p in (PROVIDER, FAKE):
        if not os.access(p, os.X_OK):
            sys.exit(f"bench: {p} missing; run: cargo build --release --workspace --bins")
    if not os.access(TIME, os.X_OK):
        sys.exit("bench: /usr/bin/time missing (GNU time); install it: apt-get install time")
    t_start = time.monotonic()
    work = Work()
    log(f"work directory {work.root}")
    res = {"machine": machine()}
    try:
        if "size" in only:
            bench_size(work, res)
        if "startup" in only:
            bench_startup(work, res)
        if "overhead" in only:
            bench_overhead(work, res, args.links)
        if "reads" in only:
            bench_reads(work, res, reads_n, args.reads_repeat)
        if "scale" in only or "organization" in only:
            bench_scale(work, res, args.ous, args.per_ou, organization="organization" in only)
        if "onboarding" in only:
            bench_onboarding(work, res, onboarding_n, args.instance_seconds, args.onboarding_poll_ms, rate_limit)
    finally:
        total = time.monotonic() - t_start
        with open(os.path.join(work.root, "results.json"), "w") as f:
            json.dump(res, f, indent=1, default=str)
        if len(res) > 1:
            report(res, args.out, total)
            log(f"wrote {args.out} ({total:.0f} s)")
        if os.environ.get("BENCH_KEEP") == "1":
            log(f"kept {work.root}")
        else:
            shutil.rmtree(work.root, ignore_errors=True)


if __name__ == "__main__":
    main()
