"""End-to-end tests of the AWS emulator: the launcher is started as a
subprocess and driven with boto3, as the provider's tests drive it with the
AWS SDK for Rust.

    .venv/bin/python -m unittest discover -s emulators/aws -v
    .venv/bin/python -m pytest emulators/aws -q        (if pytest is installed)

The custom-resource tests need the Datadog fake
(``target/debug/fake-datadog``; ``cargo build -p fake-datadog``) and are
skipped with a message when it is missing. The shared-template test is
skipped when ../shared (beside the repository) is absent.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LAUNCHER = HERE / "launcher.py"
FAKE_DATADOG = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "debug" / "fake-datadog"
SHARED_TEMPLATE = REPO.parent / "shared" / "reference" / "datadog" / "organizations-template.yaml"

PLAIN_TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Secret:
    Type: String
    NoEcho: true
    Default: ""
  Color:
    Type: String
    Default: blue
    AllowedValues: [blue, green]
Resources:
  Handle:
    Type: AWS::CloudFormation::WaitConditionHandle
"""


# ------------------------------------------------------------------ helpers


def _read_line(proc: subprocess.Popen, what: str, timeout: float = 60.0) -> str:
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sel.select(timeout=0.2):
            line = proc.stdout.readline()
            if line:
                return line.decode().strip()
        if proc.poll() is not None:
            break
    err = proc.stderr.read().decode() if proc.stderr and proc.poll() is not None else ""
    raise RuntimeError(f"{what} did not start: {err}")


class FakeDatadog:
    """The Rust Datadog fake on a free loopback port."""

    def __init__(self) -> None:
        self.api_key = "api-" + secrets.token_hex(16)
        self.app_key = "app-" + secrets.token_hex(16)
        env = dict(os.environ, FAKE_DD_API_KEY=self.api_key, FAKE_DD_APP_KEY=self.app_key)
        self.proc = subprocess.Popen(
            [str(FAKE_DATADOG), "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.url = _read_line(self.proc, "fake-datadog").split()[-1]

    def admin(self, method: str, path: str, body=None):
        return _http(method, f"{self.url}/_fake/{path}", body)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


def _http(method: str, url: str, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, (json.loads(raw) if raw else None)


class Emulator:
    """The launcher as a subprocess, plus boto3 clients pointed at it."""

    def __init__(self, *extra: str, datadog_url: str = "http://127.0.0.1:9", seed: Path | None = None):
        self.dir = Path(tempfile.mkdtemp(prefix="aws-emulator-test-"))
        cmd = [
            sys.executable,
            str(LAUNCHER),
            "--listen",
            "127.0.0.1:0",
            "--state-dir",
            str(self.dir),
            "--datadog-url",
            datadog_url,
            "--instance-seconds",
            "0.05",
            *extra,
        ]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        self.stderr_path = self.dir / "stderr.log"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr)
        self.line = _read_line(self.proc, "launcher", timeout=120)
        self.env = self._load_env()
        self.url = self.env["AWS_ENDPOINT_URL"]
        self.admin_url = self.env["SANDBOX_AWS_ADMIN_URL"]

    def _load_env(self) -> dict[str, str]:
        env = {}
        for line in (self.dir / "aws.env").read_text().splitlines():
            if line.startswith("export "):
                key, _, value = line[len("export ") :].partition("=")
                env[key] = shlex.split(value)[0] if value else ""
        return env

    def client(self, service: str, region: str | None = None, **kw):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region or self.env["AWS_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, **kw),
        )

    def admin(self, method: str, path: str, body=None):
        return _http(method, f"{self.admin_url}/{path}", body)

    def settings(self, **kw):
        status, out = self.admin("POST", "settings", kw)
        assert status == 200, out
        return out

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()
        rest = self.proc.stdout.read().decode()
        self.proc.stdout.close()
        self.extra_stdout = rest
        return self.proc.returncode


def wait_operation(cf, name: str, op_id: str, timeout: float = 60.0, **kw) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        op = cf.describe_stack_set_operation(StackSetName=name, OperationId=op_id, **kw)["StackSetOperation"]
        if op["Status"] not in ("QUEUED", "RUNNING", "STOPPING"):
            return op
        if time.monotonic() > deadline:
            raise AssertionError(f"operation {op_id} still {op['Status']}")
        time.sleep(0.05)


def all_instances(cf, name: str, **kw) -> list[dict]:
    out, token = [], None
    while True:
        args = dict(StackSetName=name, MaxResults=100, **kw)
        if token:
            args["NextToken"] = token
        page = cf.list_stack_instances(**args)
        out += page["Summaries"]
        token = page.get("NextToken")
        if not token:
            return out


def error_code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def _unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


# ============================================================== main suite


class StackSetEmulatorTest(unittest.TestCase):
    """One emulator (default seed, no Datadog) shared by tests that do not
    change the organization; each test uses its own stack set names."""

    emu: Emulator

    @classmethod
    def setUpClass(cls) -> None:
        cls.emu = Emulator()
        cls.cf = cls.emu.client("cloudformation")
        cls.orgs = cls.emu.client("organizations")
        cls.env = cls.emu.env

    @classmethod
    def tearDownClass(cls) -> None:
        code = cls.emu.stop()
        assert code == 0, f"launcher exited {code}"
        assert cls.emu.extra_stdout == "", f"unexpected stdout: {cls.emu.extra_stdout!r}"

    def setUp(self) -> None:
        self.emu.settings(instance_seconds=0.05, instance_jitter_seconds=0)

    def _create_set(self, name: str, *, body: str = PLAIN_TEMPLATE, auto: bool = True, cf=None, **kw) -> str:
        args = dict(
            StackSetName=name,
            TemplateBody=body,
            PermissionModel="SERVICE_MANAGED",
            AutoDeployment={"Enabled": auto, "RetainStacksOnAccountRemoval": False} if auto else {"Enabled": False},
            Parameters=[{"ParameterKey": "Secret", "ParameterValue": "s3cr3t-value"}],
        )
        args.update(kw)
        return (cf or self.cf).create_stack_set(**args)["StackSetId"]

    def _deploy(self, name: str, ous=None, cf=None, **kw) -> str:
        kw.setdefault("Regions", ["us-east-1"])
        return (cf or self.cf).create_stack_instances(
            StackSetName=name,
            DeploymentTargets={"OrganizationalUnitIds": ous or [self.env["SANDBOX_ROOT_ID"]]},
            **kw,
        )["OperationId"]

    # --------------------------------------------------------- launcher

    def test_listening_line_and_env_file(self):
        """The launcher prints one listening line and exports every variable the sandbox sources."""
        self.assertRegex(self.emu.line, r"^listening on http://127\.0\.0\.1:\d+$")
        env = self.env
        for key in (
            "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION",
            "AWS_EC2_METADATA_DISABLED", "SANDBOX_ROOT_ID", "SANDBOX_MANAGEMENT_ACCOUNT_ID", "SANDBOX_OU_PRODUCTION",
            "SANDBOX_OU_DEVELOPMENT", "SANDBOX_OU_DEVELOPMENT_SANDBOX", "SANDBOX_ACCOUNT_IDS",
            "SANDBOX_SUSPENDED_ACCOUNT_IDS", "SANDBOX_AWS_ADMIN_URL",
        ):
            self.assertIn(key, env)
        self.assertEqual(env["AWS_ENDPOINT_URL"], self.emu.line.split()[-1])
        self.assertEqual(env["AWS_REGION"], "us-east-1")
        self.assertEqual(env["AWS_EC2_METADATA_DISABLED"], "true")
        self.assertGreaterEqual(len(env["AWS_SECRET_ACCESS_KEY"]), 32)
        self.assertEqual(env["SANDBOX_AWS_ADMIN_URL"], env["AWS_ENDPOINT_URL"] + "/_emulator")
        self.assertEqual(len(env["SANDBOX_ACCOUNT_IDS"].split(",")), 6)
        self.assertEqual(len(env["SANDBOX_SUSPENDED_ACCOUNT_IDS"].split(",")), 1)
        self.assertEqual(oct((self.emu.dir / "aws.env").stat().st_mode & 0o777), "0o600")
        status, health = self.emu.admin("GET", "health")
        self.assertEqual((status, health["status"]), (200, "ok"))

    def test_seed_is_visible_through_organizations(self):
        """Organizations calls see the seeded root, OUs, accounts and the suspended account."""
        env = self.env
        roots = self.orgs.list_roots()["Roots"]
        self.assertEqual([r["Id"] for r in roots], [env["SANDBOX_ROOT_ID"]])
        top = {ou["Name"]: ou["Id"] for ou in self.orgs.list_organizational_units_for_parent(ParentId=env["SANDBOX_ROOT_ID"])["OrganizationalUnits"]}
        self.assertEqual(top, {"Production": env["SANDBOX_OU_PRODUCTION"], "Development": env["SANDBOX_OU_DEVELOPMENT"]})
        child = self.orgs.list_organizational_units_for_parent(ParentId=env["SANDBOX_OU_DEVELOPMENT"])["OrganizationalUnits"]
        self.assertEqual([ou["Id"] for ou in child], [env["SANDBOX_OU_DEVELOPMENT_SANDBOX"]])
        prod = self.orgs.list_accounts_for_parent(ParentId=env["SANDBOX_OU_PRODUCTION"])["Accounts"]
        self.assertEqual(len(prod), 4)
        suspended = [a["Id"] for a in prod if a["Status"] == "SUSPENDED"]
        self.assertEqual(suspended, env["SANDBOX_SUSPENDED_ACCOUNT_IDS"].split(","))
        dev = self.orgs.list_accounts_for_parent(ParentId=env["SANDBOX_OU_DEVELOPMENT"])["Accounts"]
        sandbox = self.orgs.list_accounts_for_parent(ParentId=env["SANDBOX_OU_DEVELOPMENT_SANDBOX"])["Accounts"]
        self.assertEqual((len(dev), len(sandbox)), (2, 1))
        org = self.orgs.describe_organization()["Organization"]
        self.assertEqual(org["MasterAccountId"], env["SANDBOX_MANAGEMENT_ACCOUNT_ID"])
        services = self.orgs.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
        self.assertIn("member.org.stacksets.cloudformation.amazonaws.com", [s["ServicePrincipal"] for s in services])
        status, view = self.emu.admin("GET", "organization")
        self.assertEqual(status, 200)
        self.assertEqual(
            {ou["path"] for ou in view["organizational_units"]}, {"Production", "Development", "Development/Sandbox"}
        )

    # ---------------------------------------------------------- template

    def test_template_is_served_from_s3_and_resolved_from_template_url(self):
        """The Datadog template URL resolves from moto's S3; DescribeStackSet returns its body."""
        s3 = self.emu.client("s3", s3={"addressing_style": "path"})
        obj = s3.get_object(Bucket="datadog-cloudformation-template", Key="aws/v4.3.0/main_organizations.yaml")
        body = obj["Body"].read().decode()
        self.assertIn("DatadogApiKey", body)
        name = _unique("from-url")
        for url in (
            self.env["SANDBOX_AWS_TEMPLATE_URL"],
            "https://datadog-cloudformation-template.s3.us-east-1.amazonaws.com/aws/v4.3.0/main_organizations.yaml",
        ):
            with self.subTest(url=url):
                self.cf.create_stack_set(
                    StackSetName=name, TemplateURL=url, PermissionModel="SERVICE_MANAGED",
                    AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
                    Capabilities=["CAPABILITY_NAMED_IAM"],
                )
                got = self.cf.describe_stack_set(StackSetName=name)["StackSet"]
                self.assertEqual(got["TemplateBody"], body)
                self.cf.delete_stack_set(StackSetName=name)
        with self.assertRaises(ClientError) as cm:
            self.cf.create_stack_set(
                StackSetName=name, TemplateURL="https://datadog-cloudformation-template.s3.amazonaws.com/aws/nope.yaml",
                PermissionModel="SERVICE_MANAGED", AutoDeployment={"Enabled": True}, Capabilities=["CAPABILITY_NAMED_IAM"],
            )
        self.assertEqual(error_code(cm.exception), "ValidationError")

    def test_shared_template_is_the_one_served(self):
        """When ../shared holds Datadog's template, that file (version substituted) is what S3 serves."""
        if not SHARED_TEMPLATE.is_file():
            self.skipTest(f"skipping: {SHARED_TEMPLATE} not found (shared reference absent)")
        s3 = self.emu.client("s3", s3={"addressing_style": "path"})
        body = s3.get_object(Bucket="datadog-cloudformation-template", Key="aws/v4.3.0/main_organizations.yaml")["Body"].read().decode()
        expected = SHARED_TEMPLATE.read_text().replace("<VERSION_PLACEHOLDER>", "v4.3.0")
        self.assertEqual(body, expected)
        self.assertTrue(body.startswith("# version: v4.3.0"))

    def test_datadog_template_needs_named_iam_and_enforces_its_rule(self):
        """CAPABILITY_IAM alone is refused; CSPM=true with DisableResourceCollection=true is a ValidationError."""
        url = self.env["SANDBOX_AWS_TEMPLATE_URL"]
        base = dict(PermissionModel="SERVICE_MANAGED", AutoDeployment={"Enabled": True}, TemplateURL=url)
        with self.assertRaises(ClientError) as cm:
            self.cf.create_stack_set(StackSetName=_unique("caps"), Capabilities=["CAPABILITY_IAM"], **base)
        self.assertEqual(error_code(cm.exception), "InsufficientCapabilitiesException")
        self.assertIn("CAPABILITY_NAMED_IAM", str(cm.exception))
        with self.assertRaises(ClientError) as cm:
            self.cf.create_stack_set(StackSetName=_unique("caps"), **base)
        self.assertEqual(error_code(cm.exception), "InsufficientCapabilitiesException")
        with self.assertRaises(ClientError) as cm:
            self.cf.create_stack_set(
                StackSetName=_unique("rule"), Capabilities=["CAPABILITY_NAMED_IAM"],
                Parameters=[
                    {"ParameterKey": "CloudSecurityPostureManagement", "ParameterValue": "true"},
                    {"ParameterKey": "DisableResourceCollection", "ParameterValue": "true"},
                ],
                **base,
            )
        self.assertEqual(error_code(cm.exception), "ValidationError")
        self.assertIn("CloudSecurityPostureManagement requires ResourceCollection", str(cm.exception))
        with self.assertRaises(ClientError) as cm:
            self.cf.create_stack_set(
                StackSetName=_unique("allowed"), Capabilities=["CAPABILITY_NAMED_IAM"],
                Parameters=[{"ParameterKey": "DatadogSite", "ParameterValue": "example.com"}], **base,
            )
        self.assertIn("must be one of AllowedValues", str(cm.exception))
        with self.assertRaises(ClientError) as cm:
            self.cf.create_stack_set(
                StackSetName=_unique("unknown"), Capabilities=["CAPABILITY_NAMED_IAM"],
                Parameters=[{"ParameterKey": "Nope", "ParameterValue": "x"}], **base,
            )
        self.assertIn("Parameters: [Nope] do not exist in the template", str(cm.exception))

    # ----------------------------------------------------- create / read

    def test_instances_over_root_cover_active_members_only(self):
        """Targeting the root deploys to the 6 ACTIVE member accounts, not the management or suspended one."""
        name = _unique("root")
        self._create_set(name)
        op_id = self._deploy(name)
        op = wait_operation(self.cf, name, op_id)
        self.assertEqual(op["Status"], "SUCCEEDED")
        insts = all_instances(self.cf, name)
        self.assertEqual(sorted(i["Account"] for i in insts), sorted(self.env["SANDBOX_ACCOUNT_IDS"].split(",")))
        for i in insts:
            self.assertEqual(i["Status"], "CURRENT")
            self.assertEqual(i["StackInstanceStatus"]["DetailedStatus"], "SUCCEEDED")
            self.assertEqual(i["OrganizationalUnitId"], self.env["SANDBOX_ROOT_ID"])
            self.assertEqual(i["LastOperationId"], op_id)
            self.assertTrue(i["StackId"].startswith(f"arn:aws:cloudformation:us-east-1:{i['Account']}:stack/StackSet-{name}-"))
        accounts = {i["Account"] for i in insts}
        self.assertNotIn(self.env["SANDBOX_MANAGEMENT_ACCOUNT_ID"], accounts)
        self.assertNotIn(self.env["SANDBOX_SUSPENDED_ACCOUNT_IDS"], accounts)

    def test_operation_runs_then_succeeds_with_timing(self):
        """An operation is RUNNING for ~instance_seconds per batch, then SUCCEEDED; instances go RUNNING -> SUCCEEDED."""
        self.emu.settings(instance_seconds=0.3)
        name = _unique("timing")
        self._create_set(name)
        start = time.monotonic()
        op_id = self._deploy(name, OperationPreferences={"MaxConcurrentCount": 3, "FailureToleranceCount": 2})
        first = self.cf.describe_stack_set_operation(StackSetName=name, OperationId=op_id)["StackSetOperation"]
        self.assertIn(first["Status"], ("QUEUED", "RUNNING"))
        time.sleep(0.1)
        running = [i for i in all_instances(self.cf, name) if i["StackInstanceStatus"]["DetailedStatus"] == "RUNNING"]
        self.assertEqual(len(running), 3)
        self.assertTrue(all(i["Status"] == "OUTDATED" for i in running))
        op = wait_operation(self.cf, name, op_id)
        elapsed = time.monotonic() - start
        self.assertEqual(op["Status"], "SUCCEEDED")
        self.assertGreaterEqual(elapsed, 0.55)  # 6 instances / 3 at a time * 0.3 s
        self.assertLess(elapsed, 5)
        self.assertIn("EndTimestamp", op)
        self.assertEqual(op["OperationPreferences"]["MaxConcurrentCount"], 3)

    def test_instance_time_is_a_base_plus_jitter(self):
        """With jitter, a batch lasts the base time plus its slowest instance's draw (seconds, bounded)."""
        status, out = self.emu.admin("POST", "settings", {"instance_seconds": 0.05, "instance_jitter_seconds": 0.4})
        self.assertEqual((status, out["instance_jitter_seconds"]), (200, 0.4), out)
        self.assertEqual(self.emu.admin("POST", "settings", {"instance_jitter_seconds": -1})[0], 400)
        name = _unique("jitter")
        self._create_set(name)
        start = time.monotonic()
        op = wait_operation(self.cf, name, self._deploy(name, OperationPreferences={"MaxConcurrentCount": 10, "FailureToleranceCount": 9}))
        elapsed = time.monotonic() - start
        self.assertEqual(op["Status"], "SUCCEEDED")
        # One batch of every seeded account: the base 0.05 s plus the largest of
        # several draws in [0, 0.4) (all below 0.05 has a chance of about 1e-5).
        self.assertGreater(elapsed, 0.1)
        self.assertLess(elapsed, 5)

    def test_second_operation_while_one_runs_is_refused(self):
        """OperationInProgressException while an operation runs; managed execution queues instead."""
        self.emu.settings(instance_seconds=0.3)
        name = _unique("busy")
        self._create_set(name)
        op_id = self._deploy(name)
        with self.assertRaises(ClientError) as cm:
            self.cf.update_stack_set(StackSetName=name, UsePreviousTemplate=True, Parameters=[{"ParameterKey": "Secret", "UsePreviousValue": True}])
        self.assertEqual(error_code(cm.exception), "OperationInProgressException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 409)
        with self.assertRaises(ClientError) as cm:
            self.cf.delete_stack_set(StackSetName=name)
        self.assertEqual(error_code(cm.exception), "OperationInProgressException")
        self.emu.settings(instance_seconds=0.0)
        wait_operation(self.cf, name, op_id)

        managed = _unique("managed")
        self._create_set(managed, ManagedExecution={"Active": True})
        self.emu.settings(instance_seconds=0.2)
        first = self._deploy(managed, ous=[self.env["SANDBOX_OU_PRODUCTION"]])
        second = self._deploy(managed, ous=[self.env["SANDBOX_OU_DEVELOPMENT"]])
        self.assertEqual(
            self.cf.describe_stack_set_operation(StackSetName=managed, OperationId=second)["StackSetOperation"]["Status"],
            "QUEUED",
        )
        self.emu.settings(instance_seconds=0.0)
        self.assertEqual(wait_operation(self.cf, managed, first)["Status"], "SUCCEEDED")
        self.assertEqual(wait_operation(self.cf, managed, second)["Status"], "SUCCEEDED")
        self.assertEqual(len(all_instances(self.cf, managed)), 6)

    def test_operation_id_is_an_idempotency_token(self):
        """The same OperationId and input returns the same operation; different input is refused."""
        self.emu.settings(instance_seconds=0.2)
        name = _unique("idem")
        self._create_set(name)
        op_id = "op-" + secrets.token_hex(8)
        a = self._deploy(name, OperationId=op_id)
        b = self._deploy(name, OperationId=op_id)  # same input, even while it runs: no OperationInProgress
        self.assertEqual(a, b)
        with self.assertRaises(ClientError) as cm:
            self._deploy(name, ous=[self.env["SANDBOX_OU_PRODUCTION"]], OperationId=op_id)
        self.assertEqual(error_code(cm.exception), "OperationIdAlreadyExistsException")
        self.emu.settings(instance_seconds=0.0)
        wait_operation(self.cf, name, op_id)
        ops = self.cf.list_stack_set_operations(StackSetName=name)["Summaries"]
        self.assertEqual([o["OperationId"] for o in ops], [op_id])
        self.assertEqual(self._deploy(name, OperationId=op_id), op_id)  # after completion too

    def test_describe_stack_set_shows_targets_and_masks_no_echo(self):
        """DescribeStackSet: AutoDeployment, OUs, Regions, ManagedExecution, tags, capabilities, '****' for NoEcho."""
        name = _unique("describe")
        self._create_set(name, Tags=[{"Key": "team", "Value": "obs"}], Capabilities=["CAPABILITY_IAM"], Description="d")
        op_id = self._deploy(name, ous=[self.env["SANDBOX_OU_PRODUCTION"], self.env["SANDBOX_OU_DEVELOPMENT"]])
        wait_operation(self.cf, name, op_id)
        ss = self.cf.describe_stack_set(StackSetName=name)["StackSet"]
        self.assertEqual(ss["AutoDeployment"], {"Enabled": True, "RetainStacksOnAccountRemoval": False})
        self.assertEqual(ss["OrganizationalUnitIds"], [self.env["SANDBOX_OU_PRODUCTION"], self.env["SANDBOX_OU_DEVELOPMENT"]])
        self.assertEqual(ss["Regions"], ["us-east-1"])
        self.assertEqual(ss["ManagedExecution"], {"Active": False})
        self.assertEqual(ss["PermissionModel"], "SERVICE_MANAGED")
        self.assertEqual(ss["Status"], "ACTIVE")
        self.assertEqual(ss["Tags"], [{"Key": "team", "Value": "obs"}])
        self.assertEqual(ss["Capabilities"], ["CAPABILITY_IAM"])
        self.assertEqual(ss["Description"], "d")
        self.assertTrue(ss["StackSetARN"].endswith(f":stackset/{ss['StackSetId']}"))
        params = {p["ParameterKey"]: p["ParameterValue"] for p in ss["Parameters"]}
        self.assertEqual(params, {"Secret": "****", "Color": "blue"})
        self.assertNotIn("AdministrationRoleARN", ss)
        insts = all_instances(self.cf, name)
        self.assertEqual(len(insts), 6)  # Production's 3 + Development's 2 + Sandbox's 1
        by_ou = {i["Account"]: i["OrganizationalUnitId"] for i in insts}
        self.assertEqual(sorted(set(by_ou.values())), sorted([self.env["SANDBOX_OU_PRODUCTION"], self.env["SANDBOX_OU_DEVELOPMENT"]]))

    def test_update_keeps_no_echo_values_with_use_previous_value(self):
        """UpdateStackSet: UsePreviousValue keeps a hidden value, omitted parameters revert to defaults, tags replace."""
        name = _unique("update")
        self._create_set(name, Parameters=[{"ParameterKey": "Secret", "ParameterValue": "v1"}, {"ParameterKey": "Color", "ParameterValue": "green"}])
        wait_operation(self.cf, name, self._deploy(name, ous=[self.env["SANDBOX_OU_PRODUCTION"]]))
        op_id = self.cf.update_stack_set(
            StackSetName=name, UsePreviousTemplate=True,
            Parameters=[{"ParameterKey": "Secret", "UsePreviousValue": True}],
            Tags=[{"Key": "k", "Value": "v"}],
            AutoDeployment={"Enabled": False},
        )["OperationId"]
        op = wait_operation(self.cf, name, op_id)
        self.assertEqual((op["Action"], op["Status"]), ("UPDATE", "SUCCEEDED"))
        results = self.cf.list_stack_set_operation_results(StackSetName=name, OperationId=op_id)["Summaries"]
        self.assertEqual(len(results), 3)
        ss = self.cf.describe_stack_set(StackSetName=name)["StackSet"]
        self.assertEqual({p["ParameterKey"]: p["ParameterValue"] for p in ss["Parameters"]}, {"Secret": "****", "Color": "blue"})
        self.assertEqual(ss["Tags"], [{"Key": "k", "Value": "v"}])
        self.assertFalse(ss["AutoDeployment"]["Enabled"])
        with self.assertRaises(ClientError) as cm:
            self.cf.update_stack_set(StackSetName=name)
        self.assertEqual(error_code(cm.exception), "ValidationError")

    def test_delete_instances_by_ou_then_delete_set(self):
        """DeleteStackInstances targets OUs (accounts alone are refused); a set with instances cannot be deleted."""
        name = _unique("delete")
        self._create_set(name)
        wait_operation(self.cf, name, self._deploy(name))
        with self.assertRaises(ClientError) as cm:
            self.cf.delete_stack_set(StackSetName=name)
        self.assertEqual(error_code(cm.exception), "StackSetNotEmptyException")
        with self.assertRaises(ClientError) as cm:
            self.cf.delete_stack_instances(
                StackSetName=name, DeploymentTargets={"Accounts": [self.env["SANDBOX_ACCOUNT_IDS"].split(",")[0]]},
                Regions=["us-east-1"], RetainStacks=False,
            )
        self.assertEqual(error_code(cm.exception), "ValidationError")
        with self.assertRaises(ClientError) as cm:
            self.cf.delete_stack_instances(
                StackSetName=name, Accounts=[self.env["SANDBOX_ACCOUNT_IDS"].split(",")[0]],
                Regions=["us-east-1"], RetainStacks=False,
            )
        self.assertEqual(error_code(cm.exception), "ValidationError")
        op_id = self.cf.delete_stack_instances(
            StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": [self.env["SANDBOX_OU_DEVELOPMENT"]]},
            Regions=["us-east-1"], RetainStacks=False,
        )["OperationId"]
        op = wait_operation(self.cf, name, op_id)
        self.assertEqual((op["Action"], op["Status"], op["RetainStacks"]), ("DELETE", "SUCCEEDED", False))
        left = all_instances(self.cf, name)
        self.assertEqual(len(left), 3)  # Development and its child Sandbox are gone
        op_id = self.cf.delete_stack_instances(
            StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": [self.env["SANDBOX_ROOT_ID"]]},
            Regions=["us-east-1"], RetainStacks=True,
        )["OperationId"]
        wait_operation(self.cf, name, op_id)
        self.assertEqual(all_instances(self.cf, name), [])
        ss = self.cf.describe_stack_set(StackSetName=name)["StackSet"]
        self.assertEqual(ss["OrganizationalUnitIds"], [])
        self.cf.delete_stack_set(StackSetName=name)
        with self.assertRaises(ClientError) as cm:
            self.cf.describe_stack_set(StackSetName=name)
        self.assertEqual(error_code(cm.exception), "StackSetNotFoundException")
        deleted = self.cf.list_stack_sets(Status="DELETED")["Summaries"]
        self.assertIn(name, [s["StackSetName"] for s in deleted])

    def test_pagination(self):
        """ListStackInstances and ListStackSetOperationResults page with MaxResults/NextToken; filters apply."""
        name = _unique("pages")
        self._create_set(name)
        op_id = self._deploy(name)
        wait_operation(self.cf, name, op_id)
        seen, token, pages = [], None, 0
        while True:
            kw = {"NextToken": token} if token else {}
            page = self.cf.list_stack_instances(StackSetName=name, MaxResults=4, **kw)
            pages += 1
            self.assertLessEqual(len(page["Summaries"]), 4)
            seen += [i["Account"] for i in page["Summaries"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual((pages, len(seen), len(set(seen))), (2, 6, 6))
        results, token = [], None
        while True:
            kw = {"NextToken": token} if token else {}
            page = self.cf.list_stack_set_operation_results(StackSetName=name, OperationId=op_id, MaxResults=5, **kw)
            results += page["Summaries"]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(len(results), 6)
        self.assertTrue(all(r["Status"] == "SUCCEEDED" for r in results))
        one = self.cf.list_stack_instances(StackSetName=name, StackInstanceAccount=seen[0], StackInstanceRegion="us-east-1")["Summaries"]
        self.assertEqual([i["Account"] for i in one], [seen[0]])
        by_op = all_instances(self.cf, name, Filters=[{"Name": "LAST_OPERATION_ID", "Values": op_id}])
        self.assertEqual(len(by_op), 6)
        none = all_instances(self.cf, name, Filters=[{"Name": "DETAILED_STATUS", "Values": "FAILED"}])
        self.assertEqual(none, [])
        with self.assertRaises(ClientError) as cm:
            self.cf.list_stack_instances(StackSetName=name, MaxResults=101)
        self.assertEqual(error_code(cm.exception), "ValidationError")

    def test_injected_failure_fails_instance_and_operation(self):
        """An injected instance failure: instance FAILED/OUTDATED with the reason, operation FAILED, the rest CANCELLED."""
        victim = self.env["SANDBOX_ACCOUNT_IDS"].split(",")[0]
        name = _unique("fail")
        self._create_set(name)
        status, _ = self.emu.admin("POST", "faults/instance-failures", {"accounts": [victim], "reason": "Boom: injected", "count": 1})
        self.assertEqual(status, 200)
        op_id = self._deploy(name)  # tolerance 0, one at a time
        op = wait_operation(self.cf, name, op_id)
        self.assertEqual(op["Status"], "FAILED")
        self.assertEqual(op["StatusDetails"]["FailedStackInstancesCount"], 1)
        inst = {i["Account"]: i for i in all_instances(self.cf, name)}
        self.assertEqual(inst[victim]["StackInstanceStatus"]["DetailedStatus"], "FAILED")
        self.assertEqual(inst[victim]["Status"], "OUTDATED")
        self.assertEqual(inst[victim]["StatusReason"], "Boom: injected")
        results = {r["Account"]: r for r in self.cf.list_stack_set_operation_results(StackSetName=name, OperationId=op_id)["Summaries"]}
        self.assertEqual(results[victim]["Status"], "FAILED")
        statuses = sorted(r["Status"] for r in results.values())
        self.assertIn("CANCELLED", statuses)
        cancelled = [i for i in inst.values() if i["StackInstanceStatus"]["DetailedStatus"] == "CANCELLED"]
        self.assertTrue(all(i["StatusReason"] == "Cancelled since failure tolerance has exceeded" for i in cancelled))
        # A retry (the fault is used up) repairs everything.
        op2 = wait_operation(self.cf, name, self._deploy(name))
        self.assertEqual(op2["Status"], "SUCCEEDED")
        self.assertTrue(all(i["Status"] == "CURRENT" for i in all_instances(self.cf, name)))

    def test_failure_tolerance_lets_operation_succeed(self):
        """With FailureToleranceCount=1 one failure still ends SUCCEEDED, and other instances deploy."""
        victim = self.env["SANDBOX_ACCOUNT_IDS"].split(",")[1]
        name = _unique("tolerant")
        self._create_set(name)
        self.emu.admin("POST", "faults/instance-failures", {"accounts": [victim], "reason": "flaky", "count": 1})
        op = wait_operation(self.cf, name, self._deploy(name, OperationPreferences={"FailureToleranceCount": 1, "MaxConcurrentCount": 2}))
        self.assertEqual(op["Status"], "SUCCEEDED")
        self.assertEqual(op["StatusDetails"]["FailedStackInstancesCount"], 1)
        failed = all_instances(self.cf, name, Filters=[{"Name": "DETAILED_STATUS", "Values": "FAILED"}])
        self.assertEqual([i["Account"] for i in failed], [victim])

    def test_operation_preferences_validation(self):
        """Bad OperationPreferences combinations give AWS's ValidationErrors."""
        name = _unique("prefs")
        self._create_set(name)
        raw = self.emu.client("cloudformation", parameter_validation=False)  # the Rust SDK does not validate ranges
        for prefs, text in (
            ({"FailureToleranceCount": 1, "FailureTolerancePercentage": 10}, "Exactly one of FailureTolerancePercentage"),
            ({"MaxConcurrentCount": 1, "MaxConcurrentPercentage": 10}, "Exactly one of MaxConcurrentPercentage"),
            ({"FailureToleranceCount": 0, "MaxConcurrentCount": 5}, "FailureToleranceCount + 1"),
            ({"MaxConcurrentPercentage": 0}, "greater than or equal to 1"),
            ({"FailureTolerancePercentage": 101}, "less than or equal to 100"),
            ({"RegionConcurrencyType": "SIDEWAYS"}, "enum value set"),
            ({"RegionOrder": ["eu-west-1"]}, "RegionOrder"),
        ):
            with self.subTest(prefs=prefs):
                with self.assertRaises(ClientError) as cm:
                    raw.create_stack_instances(
                        StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": [self.env["SANDBOX_ROOT_ID"]]},
                        Regions=["us-east-1"], OperationPreferences=prefs,
                    )
                self.assertEqual(error_code(cm.exception), "ValidationError")
                self.assertIn(text, str(cm.exception))
        # Soft failure tolerance lets concurrency exceed tolerance + 1.
        op = self._deploy(name, OperationPreferences={"FailureToleranceCount": 0, "MaxConcurrentCount": 5, "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE"})
        self.assertEqual(wait_operation(self.cf, name, op)["Status"], "SUCCEEDED")

    def test_call_as_separates_stack_sets(self):
        """A set created with CallAs=DELEGATED_ADMIN is only visible with DELEGATED_ADMIN, and vice versa."""
        name = _unique("delegated")
        self._create_set(name, CallAs="DELEGATED_ADMIN")
        with self.assertRaises(ClientError) as cm:
            self.cf.describe_stack_set(StackSetName=name)
        self.assertEqual(error_code(cm.exception), "StackSetNotFoundException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertEqual(self.cf.describe_stack_set(StackSetName=name, CallAs="DELEGATED_ADMIN")["StackSet"]["StackSetName"], name)
        op = self._deploy(name, CallAs="DELEGATED_ADMIN")
        self.assertEqual(wait_operation(self.cf, name, op, CallAs="DELEGATED_ADMIN")["Status"], "SUCCEEDED")
        self.assertNotIn(name, [s["StackSetName"] for s in self.cf.list_stack_sets(Status="ACTIVE")["Summaries"]])
        self.assertIn(name, [s["StackSetName"] for s in self.cf.list_stack_sets(CallAs="DELEGATED_ADMIN")["Summaries"]])
        with self.assertRaises(ClientError) as cm:
            self.cf.create_stack_set(
                StackSetName=name, TemplateBody=PLAIN_TEMPLATE, PermissionModel="SERVICE_MANAGED", AutoDeployment={"Enabled": True}
            )
        self.assertEqual(error_code(cm.exception), "NameAlreadyExistsException")

    def test_stop_operation(self):
        """StopStackSetOperation: STOPPING then STOPPED, the rest of the instances CANCELLED."""
        self.emu.settings(instance_seconds=0.3)
        name = _unique("stop")
        self._create_set(name)
        op_id = self._deploy(name)
        time.sleep(0.1)
        self.cf.stop_stack_set_operation(StackSetName=name, OperationId=op_id)
        op = wait_operation(self.cf, name, op_id)
        self.assertEqual(op["Status"], "STOPPED")
        statuses = [r["Status"] for r in self.cf.list_stack_set_operation_results(StackSetName=name, OperationId=op_id)["Summaries"]]
        self.assertIn("CANCELLED", statuses)
        with self.assertRaises(ClientError) as cm:
            self.cf.stop_stack_set_operation(StackSetName=name, OperationId=op_id)
        self.assertEqual(error_code(cm.exception), "InvalidOperationException")

    def test_organizations_access(self):
        """DescribeOrganizationsAccess follows Activate/Deactivate; service-managed sets need it."""
        self.assertEqual(self.cf.describe_organizations_access()["Status"], "ENABLED")
        self.cf.deactivate_organizations_access()
        try:
            self.assertEqual(self.cf.describe_organizations_access()["Status"], "DISABLED")
            with self.assertRaises(ClientError) as cm:
                self._create_set(_unique("noaccess"))
            self.assertIn("organizations access", str(cm.exception))
        finally:
            self.cf.activate_organizations_access()
        self.assertEqual(self.cf.describe_organizations_access()["Status"], "ENABLED")

    def test_throttle_and_in_progress_faults(self):
        """Injected Throttling and OperationInProgressException answer the next calls, then stop."""
        name = _unique("faults")
        self._create_set(name)
        self.emu.admin("POST", "faults/throttle", {"action": "CreateStackInstances", "count": 2})
        for _ in range(2):
            with self.assertRaises(ClientError) as cm:
                self._deploy(name)
            self.assertEqual(error_code(cm.exception), "Throttling")
            self.assertEqual(cm.exception.response["Error"]["Message"], "Rate exceeded")
            self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.emu.admin("POST", "faults/operation-in-progress", {"stack_set": name, "count": 1})
        with self.assertRaises(ClientError) as cm:
            self._deploy(name)
        self.assertEqual(error_code(cm.exception), "OperationInProgressException")
        self.assertEqual(wait_operation(self.cf, name, self._deploy(name))["Status"], "SUCCEEDED")
        self.emu.admin("POST", "faults/throttle", {"action": "ListRoots", "count": 1})
        with self.assertRaises(ClientError) as cm:
            self.orgs.list_roots()
        self.assertEqual(error_code(cm.exception), "TooManyRequestsException")

    def test_call_log_records_actions_without_parameter_values(self):
        """The call log names action, CallAs, stack set and operation id, never parameter values."""
        self.emu.admin("DELETE", "calls")
        name = _unique("calls")
        self._create_set(name, Parameters=[{"ParameterKey": "Secret", "ParameterValue": "very-secret-value-123"}])
        op_id = self._deploy(name)
        status, log = self.emu.admin("GET", "calls")
        self.assertEqual(status, 200)
        calls = log["calls"]
        self.assertEqual([c["action"] for c in calls[:2]], ["CreateStackSet", "CreateStackInstances"])
        self.assertEqual(calls[1]["operation_id"], op_id)
        self.assertEqual(calls[1]["stack_set_name"], name)
        self.assertEqual(calls[1]["call_as"], "SELF")
        self.assertNotIn("very-secret-value-123", json.dumps(log))
        self.assertNotIn("very-secret-value-123", self.emu.stderr_path.read_text())
        wait_operation(self.cf, name, op_id)

    def test_out_of_band_instance_removal(self):
        """DELETE /_emulator/stacksets/{name}/instances/{account}/{region} removes one instance (drift)."""
        name = _unique("drift")
        self._create_set(name)
        wait_operation(self.cf, name, self._deploy(name))
        victim = self.env["SANDBOX_ACCOUNT_IDS"].split(",")[2]
        status, out = self.emu.admin("DELETE", f"stacksets/{name}/instances/{victim}/us-east-1")
        self.assertEqual((status, out["removed"]), (200, True))
        self.assertNotIn(victim, [i["Account"] for i in all_instances(self.cf, name)])
        self.assertEqual(self.emu.admin("DELETE", f"stacksets/{name}/instances/{victim}/us-east-1")[0], 404)
        # Re-creating over the OU brings it back.
        wait_operation(self.cf, name, self._deploy(name))
        self.assertIn(victim, [i["Account"] for i in all_instances(self.cf, name)])

    # ------------------------------------------------------------ regions

    def test_stack_set_is_not_found_from_another_region(self):
        """Every call about a set made outside its administration region answers what an unknown name does."""
        name = _unique("regional")
        set_id = self._create_set(name)
        op_id = self._deploy(name)
        wait_operation(self.cf, name, op_id)
        arn = self.cf.describe_stack_set(StackSetName=name)["StackSet"]["StackSetARN"]
        self.assertTrue(arn.startswith(f"arn:aws:cloudformation:us-east-1:{self.env['SANDBOX_MANAGEMENT_ACCOUNT_ID']}:stackset/{name}:"), arn)
        eu = self.emu.client("cloudformation", region="eu-west-1")
        root = {"OrganizationalUnitIds": [self.env["SANDBOX_ROOT_ID"]]}
        account = self.env["SANDBOX_ACCOUNT_IDS"].split(",")[0]
        calls = {
            "DescribeStackSet": lambda n: eu.describe_stack_set(StackSetName=n),
            "UpdateStackSet": lambda n: eu.update_stack_set(StackSetName=n, UsePreviousTemplate=True),
            "ListStackInstances": lambda n: eu.list_stack_instances(StackSetName=n),
            "DescribeStackInstance": lambda n: eu.describe_stack_instance(StackSetName=n, StackInstanceAccount=account, StackInstanceRegion="us-east-1"),
            "CreateStackInstances": lambda n: eu.create_stack_instances(StackSetName=n, DeploymentTargets=root, Regions=["us-east-1"]),
            "DeleteStackInstances": lambda n: eu.delete_stack_instances(StackSetName=n, DeploymentTargets=root, Regions=["us-east-1"], RetainStacks=True),
            "ListStackSetOperations": lambda n: eu.list_stack_set_operations(StackSetName=n),
            "DescribeStackSetOperation": lambda n: eu.describe_stack_set_operation(StackSetName=n, OperationId=op_id),
            "ListStackSetOperationResults": lambda n: eu.list_stack_set_operation_results(StackSetName=n, OperationId=op_id),
            "StopStackSetOperation": lambda n: eu.stop_stack_set_operation(StackSetName=n, OperationId=op_id),
            "ListStackSetAutoDeploymentTargets": lambda n: eu.list_stack_set_auto_deployment_targets(StackSetName=n),
            "DeleteStackSet": lambda n: eu.delete_stack_set(StackSetName=n),
        }
        unknown = _unique("nowhere")
        for action, call in calls.items():
            for ident, missing in ((name, unknown), (set_id, f"{unknown}:{set_id.split(':', 1)[1]}")):
                with self.subTest(action=action, ident=ident):
                    with self.assertRaises(ClientError) as here:
                        call(ident)
                    with self.assertRaises(ClientError) as nowhere:
                        call(missing)
                    got, want = here.exception.response, nowhere.exception.response
                    self.assertEqual(got["Error"]["Code"], "StackSetNotFoundException")
                    self.assertEqual(got["Error"]["Message"], f"StackSet {ident} not found")
                    self.assertEqual(want["Error"]["Message"], f"StackSet {missing} not found")
                    self.assertEqual(got["Error"]["Type"], want["Error"]["Type"])
                    self.assertEqual(got["ResponseMetadata"]["HTTPStatusCode"], 404)
                    self.assertEqual(want["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertNotIn(name, [s["StackSetName"] for s in eu.list_stack_sets()["Summaries"]])
        # Nothing happened to it at home.
        self.assertEqual(self.cf.describe_stack_set(StackSetName=name)["StackSet"]["Status"], "ACTIVE")
        self.assertEqual([o["OperationId"] for o in self.cf.list_stack_set_operations(StackSetName=name)["Summaries"]], [op_id])

    def test_same_name_in_two_regions_is_independent(self):
        """A name can be created in each region: separate ids, ARNs, instances, operations and ListStackSets."""
        name = _unique("twin")
        eu = self.emu.client("cloudformation", region="eu-west-1")
        ap = self.emu.client("cloudformation", region="ap-southeast-2")
        us_id = self._create_set(name, Description="home")
        eu_id = self._create_set(name, cf=eu, Description="away")
        self.assertNotEqual(us_id, eu_id)
        with self.assertRaises(ClientError) as cm:
            self._create_set(name, cf=eu)
        self.assertEqual(error_code(cm.exception), "NameAlreadyExistsException")
        us_set = self.cf.describe_stack_set(StackSetName=name)["StackSet"]
        eu_set = eu.describe_stack_set(StackSetName=name)["StackSet"]
        self.assertEqual((us_set["StackSetId"], us_set["Description"]), (us_id, "home"))
        self.assertEqual((eu_set["StackSetId"], eu_set["Description"]), (eu_id, "away"))
        self.assertIn(":us-east-1:", us_set["StackSetARN"])
        self.assertIn(":eu-west-1:", eu_set["StackSetARN"])
        # Each id is known only in its own region.
        with self.assertRaises(ClientError) as cm:
            self.cf.describe_stack_set(StackSetName=eu_id)
        self.assertEqual(error_code(cm.exception), "StackSetNotFoundException")

        us_op = self._deploy(name, ous=[self.env["SANDBOX_OU_PRODUCTION"]])
        eu_op = self._deploy(name, ous=[self.env["SANDBOX_OU_DEVELOPMENT"]], cf=eu, Regions=["eu-central-1", "us-west-2"])
        self.assertEqual(wait_operation(self.cf, name, us_op)["Status"], "SUCCEEDED")
        self.assertEqual(wait_operation(eu, name, eu_op)["Status"], "SUCCEEDED")
        us_inst = {(i["Account"], i["Region"]) for i in all_instances(self.cf, name)}
        eu_inst = {(i["Account"], i["Region"]) for i in all_instances(eu, name)}
        self.assertEqual({r for _, r in us_inst}, {"us-east-1"})
        self.assertEqual({r for _, r in eu_inst}, {"eu-central-1", "us-west-2"})
        self.assertEqual(len(eu_inst), 2 * 3)  # Development: 2 accounts + Sandbox's 1
        self.assertFalse({a for a, _ in us_inst} & {a for a, _ in eu_inst})
        self.assertEqual([o["OperationId"] for o in self.cf.list_stack_set_operations(StackSetName=name)["Summaries"]], [us_op])
        self.assertEqual([o["OperationId"] for o in eu.list_stack_set_operations(StackSetName=name)["Summaries"]], [eu_op])
        with self.assertRaises(ClientError) as cm:
            self.cf.describe_stack_set_operation(StackSetName=name, OperationId=eu_op)
        self.assertEqual(error_code(cm.exception), "OperationNotFoundException")
        self.assertEqual(self.cf.describe_stack_set(StackSetName=name)["StackSet"]["OrganizationalUnitIds"], [self.env["SANDBOX_OU_PRODUCTION"]])
        self.assertEqual(sorted(eu.describe_stack_set(StackSetName=name)["StackSet"]["Regions"]), ["eu-central-1", "us-west-2"])
        # An update in one region touches only that region's set.
        op = eu.update_stack_set(StackSetName=name, UsePreviousTemplate=True, Parameters=[{"ParameterKey": "Secret", "UsePreviousValue": True}])["OperationId"]
        wait_operation(eu, name, op)
        self.assertEqual(len(self.cf.list_stack_set_operations(StackSetName=name)["Summaries"]), 1)

        # ListStackSets lists the caller region's sets only.
        def listed(cf, status="ACTIVE"):
            return [(s["StackSetName"], s["StackSetId"]) for s in cf.list_stack_sets(Status=status)["Summaries"] if s["StackSetName"] == name]

        self.assertEqual(listed(self.cf), [(name, us_id)])
        self.assertEqual(listed(eu), [(name, eu_id)])
        self.assertEqual(listed(ap), [])
        # Deleting the eu-west-1 set leaves the us-east-1 one.
        op = eu.delete_stack_instances(
            StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": [self.env["SANDBOX_OU_DEVELOPMENT"]]},
            Regions=["eu-central-1", "us-west-2"], RetainStacks=False,
        )["OperationId"]
        self.assertEqual(wait_operation(eu, name, op)["Status"], "SUCCEEDED")
        eu.delete_stack_set(StackSetName=name)
        self.assertEqual(listed(eu), [])
        self.assertEqual(listed(eu, "DELETED"), [(name, eu_id)])
        self.assertEqual(listed(self.cf, "DELETED"), [])
        self.assertEqual(listed(self.cf), [(name, us_id)])
        self.assertEqual(len(all_instances(self.cf, name)), len(us_inst))

    def test_admin_routes_take_an_admin_region(self):
        """Admin routes naming a set accept admin_region; without it they mean the only set of that name, else us-east-1's."""
        name = _unique("admin-twin")
        eu = self.emu.client("cloudformation", region="eu-west-1")
        self._create_set(name, cf=eu)
        victim = self.env["SANDBOX_ACCOUNT_IDS"].split(",")[0]
        wait_operation(eu, name, self._deploy(name, cf=eu))
        # Only one set of that name (in eu-west-1): bare names find it, as before.
        status, out = self.emu.admin("DELETE", f"stacksets/{name}/instances/{victim}/us-east-1")
        self.assertEqual((status, out.get("removed")), (200, True), out)
        self.emu.admin("POST", "faults/operation-in-progress", {"stack_set": name, "count": 1})
        with self.assertRaises(ClientError) as cm:
            self._deploy(name, cf=eu)
        self.assertEqual(error_code(cm.exception), "OperationInProgressException")
        wait_operation(eu, name, self._deploy(name, cf=eu))

        # Now one in us-east-1 too: bare names mean that one; admin_region picks.
        self._create_set(name)
        wait_operation(self.cf, name, self._deploy(name))
        status, out = self.emu.admin("DELETE", f"stacksets/{name}/instances/{victim}/us-east-1")
        self.assertEqual(status, 200, out)
        self.assertNotIn(victim, [i["Account"] for i in all_instances(self.cf, name)])
        self.assertIn(victim, [i["Account"] for i in all_instances(eu, name)])
        status, out = self.emu.admin("DELETE", f"stacksets/{name}/instances/{victim}/us-east-1?admin_region=eu-west-1")
        self.assertEqual(status, 200, out)
        self.assertNotIn(victim, [i["Account"] for i in all_instances(eu, name)])
        self.assertEqual(self.emu.admin("DELETE", f"stacksets/{name}/instances/{victim}/us-east-1?admin_region=ap-south-1")[0], 404)
        self.assertEqual(self.emu.admin("DELETE", f"stacksets/{name}/instances/{victim}/us-east-1?admin_region=us-east-99")[0], 400)

        status, _ = self.emu.admin("POST", "faults/operation-in-progress", {"stack_set": name, "admin_region": "eu-west-1", "count": 1})
        self.assertEqual(status, 200)
        self.assertEqual(self.emu.admin("GET", "faults")[1]["operation_in_progress"], {f"{name}@eu-west-1": 1})
        wait_operation(self.cf, name, self._deploy(name))  # not us-east-1's
        with self.assertRaises(ClientError) as cm:
            self._deploy(name, cf=eu)
        self.assertEqual(error_code(cm.exception), "OperationInProgressException")
        self.emu.admin("POST", "faults/operation-in-progress", {"stack_set": name, "count": 1})
        wait_operation(eu, name, self._deploy(name, cf=eu))  # the bare name now means us-east-1's
        with self.assertRaises(ClientError) as cm:
            self._deploy(name)
        self.assertEqual(error_code(cm.exception), "OperationInProgressException")

        status, dump = self.emu.admin("GET", "stacksets")
        ours = sorted((s["region"], s["arn"].split(":")[3]) for s in dump["stack_sets"] if s["name"] == name)
        self.assertEqual(ours, [("eu-west-1", "eu-west-1"), ("us-east-1", "us-east-1")])
        status, dump = self.emu.admin("GET", "stacksets?admin_region=eu-west-1")
        self.assertEqual({s["region"] for s in dump["stack_sets"]}, {"eu-west-1"})
        calls = self.emu.admin("GET", "calls?action=CreateStackSet")[1]["calls"]
        self.assertEqual([c["region"] for c in calls if c["stack_set_name"] == name][-2:], ["eu-west-1", "us-east-1"])

    def test_unknown_regions_are_refused(self):
        """Regions / RegionOrder entries that are not regions of the aws partition are a ValidationError; nothing starts."""
        name = _unique("badregion")
        self._create_set(name)
        root = {"OrganizationalUnitIds": [self.env["SANDBOX_ROOT_ID"]]}
        for bad in ("us-east-99", "cn-north-1", "US-EAST-1"):
            for label, call in (
                ("CreateStackInstances", lambda: self.cf.create_stack_instances(StackSetName=name, DeploymentTargets=root, Regions=["us-east-1", bad])),
                ("RegionOrder", lambda: self.cf.create_stack_instances(
                    StackSetName=name, DeploymentTargets=root, Regions=["us-east-1"], OperationPreferences={"RegionOrder": [bad]})),
                ("DeleteStackInstances", lambda: self.cf.delete_stack_instances(StackSetName=name, DeploymentTargets=root, Regions=[bad], RetainStacks=True)),
                ("UpdateStackSet", lambda: self.cf.update_stack_set(
                    StackSetName=name, UsePreviousTemplate=True, DeploymentTargets=root, Regions=[bad],
                    Parameters=[{"ParameterKey": "Secret", "UsePreviousValue": True}])),
            ):
                with self.subTest(call=label, region=bad):
                    with self.assertRaises(ClientError) as cm:
                        call()
                    self.assertEqual(error_code(cm.exception), "ValidationError")
                    self.assertEqual(cm.exception.response["Error"]["Message"], f"Region {bad} is not supported")
                    self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(self.cf.list_stack_set_operations(StackSetName=name)["Summaries"], [])
        self.assertEqual(self.cf.describe_stack_set(StackSetName=name)["StackSet"]["Regions"], [])
        # Every region of the partition is fine, e.g. an opt-in one.
        op = self._deploy(name, Regions=["af-south-1"], OperationPreferences={"RegionOrder": ["af-south-1"]})
        self.assertEqual(wait_operation(self.cf, name, op)["Status"], "SUCCEEDED")

    def test_request_signed_for_an_unknown_region_is_refused(self):
        """CloudFormation requests signed for a region the aws partition has not got are refused (moto's too); other services are moto's."""
        for region in ("us-east-99", "cn-north-1"):
            cf = self.emu.client("cloudformation", region=region)
            for label, call in (("ListStackSets", cf.list_stack_sets), ("DescribeStacks", cf.describe_stacks)):
                with self.subTest(region=region, call=label):
                    with self.assertRaises(ClientError) as cm:
                        call()
                    err = cm.exception.response
                    self.assertEqual(err["Error"]["Code"], "SignatureDoesNotMatch")
                    self.assertEqual(err["Error"]["Message"].strip(), f"Credential should be scoped to a valid region, not '{region}'.")
                    self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertTrue(self.emu.client("organizations", region="us-east-99").list_roots()["Roots"])
        self.assertEqual(self.emu.client("cloudformation", region="sa-east-1").list_stack_sets()["Summaries"], [])


# ======================================================= organization changes


class AutoDeploymentTest(unittest.TestCase):
    """Its own emulator: these tests add, move and suspend accounts."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.emu = Emulator()
        cls.cf = cls.emu.client("cloudformation")
        cls.orgs = cls.emu.client("organizations")
        cls.env = cls.emu.env

    @classmethod
    def tearDownClass(cls) -> None:
        cls.emu.stop()

    def _set_over(self, ou: str, *, retain: bool = False, enabled: bool = True) -> str:
        name = _unique("auto")
        self.cf.create_stack_set(
            StackSetName=name, TemplateBody=PLAIN_TEMPLATE, PermissionModel="SERVICE_MANAGED",
            AutoDeployment={"Enabled": enabled, **({"RetainStacksOnAccountRemoval": retain} if enabled else {})},
        )
        op = self.cf.create_stack_instances(StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": [ou]}, Regions=["us-east-1"])["OperationId"]
        wait_operation(self.cf, name, op)
        return name

    def _latest_op(self, name: str) -> dict:
        return self.cf.list_stack_set_operations(StackSetName=name)["Summaries"][0]

    def test_more_than_fifty_ous_in_one_instance_operation_are_refused(self):
        """AWS caps CreateStackInstances and DeleteStackInstances at 50 OUs: 51 is a ValidationError, 50 works."""
        name = _unique("manyous")
        self.cf.create_stack_set(StackSetName=name, TemplateBody=PLAIN_TEMPLATE, PermissionModel="SERVICE_MANAGED",
                                 AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False})
        ous = []
        for i in range(51):  # this class has its own emulator: adding OUs is fine here
            status, out = self.emu.admin("POST", "ous", {"name": f"{name}-{i}"})
            self.assertEqual(status, 200, out)
            ous.append(out["id"])
        targets = {"OrganizationalUnitIds": ous}
        for label, call in (
            ("CreateStackInstances", lambda: self.cf.create_stack_instances(StackSetName=name, DeploymentTargets=targets, Regions=["us-east-1"])),
            ("DeleteStackInstances", lambda: self.cf.delete_stack_instances(StackSetName=name, DeploymentTargets=targets, Regions=["us-east-1"], RetainStacks=False)),
        ):
            with self.subTest(call=label):
                with self.assertRaises(ClientError) as cm:
                    call()
                self.assertEqual(error_code(cm.exception), "ValidationError")
                self.assertIn("is 50", cm.exception.response["Error"]["Message"])
        self.assertEqual(self.cf.list_stack_set_operations(StackSetName=name)["Summaries"], [])
        op = self.cf.create_stack_instances(StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": ous[:50]}, Regions=["us-east-1"])["OperationId"]
        self.assertEqual(wait_operation(self.cf, name, op)["Status"], "SUCCEEDED")

    def test_new_account_gets_an_instance(self):
        """Adding an account to a targeted OU starts an auto-deployment CREATE operation that counts as in progress."""
        self.emu.settings(instance_seconds=0.05)
        name = self._set_over(self.env["SANDBOX_OU_DEVELOPMENT"])
        off = self._set_over(self.env["SANDBOX_OU_DEVELOPMENT"], enabled=False)
        before = len(all_instances(self.cf, name))
        self.emu.settings(instance_seconds=0.5)
        status, out = self.emu.admin("POST", "accounts", {"name": "dev-new", "ou_path": "Development/Sandbox"})
        self.assertEqual(status, 200, out)
        new_id = out["id"]
        op = self._latest_op(name)
        self.assertEqual(op["Action"], "CREATE")
        with self.assertRaises(ClientError) as cm:
            self.cf.update_stack_set(StackSetName=name, UsePreviousTemplate=True)
        self.assertEqual(error_code(cm.exception), "OperationInProgressException")
        self.emu.settings(instance_seconds=0.0)
        self.assertEqual(wait_operation(self.cf, name, op["OperationId"])["Status"], "SUCCEEDED")
        insts = {i["Account"]: i for i in all_instances(self.cf, name)}
        self.assertEqual(len(insts), before + 1)
        self.assertEqual(insts[new_id]["Status"], "CURRENT")
        self.assertEqual(insts[new_id]["OrganizationalUnitId"], self.env["SANDBOX_OU_DEVELOPMENT"])
        self.assertNotIn(new_id, [i["Account"] for i in all_instances(self.cf, off)])
        self.assertEqual(len(self.cf.list_stack_set_operations(StackSetName=off)["Summaries"]), 1)
        accounts = self.orgs.list_accounts_for_parent(ParentId=self.env["SANDBOX_OU_DEVELOPMENT_SANDBOX"])["Accounts"]
        self.assertIn(new_id, [a["Id"] for a in accounts])

    def test_moving_accounts_in_and_out(self):
        """Moving an account out of a targeted OU deletes its instance; moving one in creates one (also via Organizations.MoveAccount)."""
        self.emu.settings(instance_seconds=0.0)
        name = self._set_over(self.env["SANDBOX_OU_PRODUCTION"])
        retained = self._set_over(self.env["SANDBOX_OU_PRODUCTION"], retain=True)
        _, out = self.emu.admin("POST", "accounts", {"name": "mover", "ou_path": "Production"})
        mover = out["id"]
        wait_operation(self.cf, name, self._latest_op(name)["OperationId"])
        wait_operation(self.cf, retained, self._latest_op(retained)["OperationId"])
        self.assertIn(mover, [i["Account"] for i in all_instances(self.cf, name)])
        status, _ = self.emu.admin("POST", f"accounts/{mover}/move", {"ou_path": "Development"})
        self.assertEqual(status, 200)
        op = self._latest_op(name)
        self.assertEqual(op["Action"], "DELETE")
        wait_operation(self.cf, name, op["OperationId"])
        self.assertNotIn(mover, [i["Account"] for i in all_instances(self.cf, name)])
        rop = self.cf.describe_stack_set_operation(StackSetName=retained, OperationId=self._latest_op(retained)["OperationId"])["StackSetOperation"]
        self.assertTrue(rop["RetainStacks"])
        # Back in through the Organizations API.
        self.orgs.move_account(AccountId=mover, SourceParentId=self.env["SANDBOX_OU_DEVELOPMENT"], DestinationParentId=self.env["SANDBOX_OU_PRODUCTION"])
        op = self._latest_op(name)
        self.assertEqual(op["Action"], "CREATE")
        wait_operation(self.cf, name, op["OperationId"])
        self.assertIn(mover, [i["Account"] for i in all_instances(self.cf, name)])

    def test_skipped_mode_lists_suspended_accounts(self):
        """With suspended_instances=skipped, a suspended account gets an OUTDATED SKIPPED_SUSPENDED_ACCOUNT instance and the operation succeeds."""
        self.emu.settings(instance_seconds=0.0, suspended_instances="skipped")
        try:
            name = self._set_over(self.env["SANDBOX_OU_PRODUCTION"])
        finally:
            self.emu.settings(suspended_instances="omit")
        self.assertEqual(self._latest_op(name)["Status"], "SUCCEEDED")
        suspended = self.env["SANDBOX_SUSPENDED_ACCOUNT_IDS"]
        inst = {i["Account"]: i for i in all_instances(self.cf, name)}[suspended]
        self.assertEqual((inst["Status"], inst["StackInstanceStatus"]["DetailedStatus"]), ("OUTDATED", "SKIPPED_SUSPENDED_ACCOUNT"))
        self.assertNotIn("StackId", inst)
        self.assertIn("RetainStacks", inst["StatusReason"])

    def test_suspended_account_is_skipped_on_update(self):
        """A suspended account's existing instance becomes OUTDATED / SKIPPED_SUSPENDED_ACCOUNT on the next update."""
        self.emu.settings(instance_seconds=0.0)
        name = self._set_over(self.env["SANDBOX_OU_DEVELOPMENT_SANDBOX"])
        victim = all_instances(self.cf, name)[0]["Account"]
        self.emu.admin("POST", f"accounts/{victim}/suspend")
        status, org = self.emu.admin("GET", "organization")
        self.assertEqual([a["status"] for a in org["accounts"] if a["id"] == victim], ["SUSPENDED"])
        op_id = self.cf.update_stack_set(StackSetName=name, UsePreviousTemplate=True)["OperationId"]
        self.assertEqual(wait_operation(self.cf, name, op_id)["Status"], "SUCCEEDED")
        inst = {i["Account"]: i for i in all_instances(self.cf, name)}[victim]
        self.assertEqual((inst["Status"], inst["StackInstanceStatus"]["DetailedStatus"]), ("OUTDATED", "SKIPPED_SUSPENDED_ACCOUNT"))
        self.assertIn("This account is suspended", inst["StatusReason"])

    def test_auto_deployment_reaches_every_region(self):
        """An account joining a targeted OU is deployed by the auto-deployed sets of every administration region."""
        self.emu.settings(instance_seconds=0.0)
        eu = self.emu.client("cloudformation", region="eu-west-1")
        name = self._set_over(self.env["SANDBOX_OU_DEVELOPMENT"])
        eu.create_stack_set(StackSetName=name, TemplateBody=PLAIN_TEMPLATE, PermissionModel="SERVICE_MANAGED", AutoDeployment={"Enabled": True})
        op = eu.create_stack_instances(
            StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": [self.env["SANDBOX_OU_DEVELOPMENT"]]}, Regions=["eu-west-1"],
        )["OperationId"]
        wait_operation(eu, name, op)
        _, out = self.emu.admin("POST", "accounts", {"name": "everywhere", "ou_path": "Development"})
        new_id = out["id"]
        for cf, region in ((self.cf, "us-east-1"), (eu, "eu-west-1")):
            with self.subTest(admin_region=region):
                latest = cf.list_stack_set_operations(StackSetName=name)["Summaries"][0]
                self.assertEqual(latest["Action"], "CREATE")
                self.assertEqual(wait_operation(cf, name, latest["OperationId"])["Status"], "SUCCEEDED")
                inst = {i["Account"]: i for i in all_instances(cf, name)}[new_id]
                self.assertEqual((inst["Region"], inst["Status"]), (region, "CURRENT"))


# ====================================================== the custom resource


@unittest.skipUnless(FAKE_DATADOG.is_file(), f"skipping: {FAKE_DATADOG} not built (cargo build -p fake-datadog)")
class CustomResourceTest(unittest.TestCase):
    """The Datadog template's custom resource against the Rust Datadog fake."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.dd = FakeDatadog()
        cls.emu = Emulator(datadog_url=cls.dd.url)
        cls.cf = cls.emu.client("cloudformation")
        cls.env = cls.emu.env

    @classmethod
    def tearDownClass(cls) -> None:
        cls.emu.stop()
        cls.dd.stop()

    def setUp(self) -> None:
        self.dd.admin("POST", "reset")
        self.emu.settings(instance_seconds=0.0)

    def _params(self, **extra) -> list[dict]:
        values = {"DatadogApiKey": self.dd.api_key, "DatadogAppKey": self.dd.app_key, **extra}
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]

    def _create(self, name: str, ou: str, **params) -> str:
        self.cf.create_stack_set(
            StackSetName=name, TemplateURL=self.env["SANDBOX_AWS_TEMPLATE_URL"], PermissionModel="SERVICE_MANAGED",
            AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False}, Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=self._params(**params),
        )
        op = self.cf.create_stack_instances(StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": [ou]}, Regions=["us-east-1"])
        return op["OperationId"]

    def _dd_accounts(self) -> dict[str, dict]:
        """Datadog's view through its public API: aws_account_id -> attributes."""
        req = urllib.request.Request(
            f"{self.dd.url}/api/v2/integration/aws/accounts",
            headers={"DD-API-KEY": self.dd.api_key, "DD-APPLICATION-KEY": self.dd.app_key},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            data = json.loads(resp.read())["data"]
        return {item["attributes"]["aws_account_id"]: item["attributes"] for item in data}

    def test_create_update_delete_reach_datadog(self):
        """Instance create POSTs the account, a parameter change PATCHes it, instance delete DELETEs it."""
        name = _unique("dd")
        ou = self.env["SANDBOX_OU_PRODUCTION"]
        op = wait_operation(self.cf, name, self._create(name, ou, CloudSecurityPostureManagement="true"))
        self.assertEqual(op["Status"], "SUCCEEDED", op)
        prod = [i["Account"] for i in all_instances(self.cf, name)]
        accounts = self._dd_accounts()
        self.assertEqual(sorted(accounts), sorted(prod))
        one = accounts[prod[0]]
        self.assertEqual(one["account_tags"], [f"aws_account:{prod[0]}"])
        self.assertEqual(one["aws_partition"], "aws")
        self.assertEqual(one["auth_config"]["role_name"], "DatadogIntegrationRole")
        self.assertTrue(one["metrics_config"]["enabled"])
        self.assertTrue(one["resources_config"]["cloud_security_posture_management_collection"])
        self.assertTrue(one["resources_config"]["extended_collection"])
        _, reqs = self.dd.admin("GET", "requests")
        posts = [r for r in reqs["requests"] if r["method"] == "POST" and r["path"].endswith("/accounts")]
        self.assertEqual(len(posts), 3)

        self.dd.admin("DELETE", "requests")
        op_id = self.cf.update_stack_set(
            StackSetName=name, UsePreviousTemplate=True, Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[
                {"ParameterKey": "DatadogApiKey", "UsePreviousValue": True},
                {"ParameterKey": "DatadogAppKey", "UsePreviousValue": True},
                {"ParameterKey": "DisableMetricCollection", "ParameterValue": "true"},
            ],
        )["OperationId"]
        self.assertEqual(wait_operation(self.cf, name, op_id)["Status"], "SUCCEEDED")
        _, reqs = self.dd.admin("GET", "requests")
        methods = sorted(r["method"] for r in reqs["requests"])
        self.assertEqual(methods, ["GET"] * 3 + ["PATCH"] * 3)
        accounts = self._dd_accounts()
        self.assertFalse(accounts[prod[0]]["metrics_config"]["enabled"])
        self.assertFalse(accounts[prod[0]]["resources_config"]["cloud_security_posture_management_collection"])

        op_id = self.cf.delete_stack_instances(
            StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": [ou]}, Regions=["us-east-1"], RetainStacks=False
        )["OperationId"]
        self.assertEqual(wait_operation(self.cf, name, op_id)["Status"], "SUCCEEDED")
        self.assertEqual(self._dd_accounts(), {})
        status, log = self.emu.admin("GET", "calls")
        self.assertNotIn(self.dd.api_key, json.dumps(log))
        self.assertNotIn(self.dd.app_key, self.emu.stderr_path.read_text())

    def test_conflict_in_datadog_fails_the_instance(self):
        """A 409 from Datadog (account already integrated) fails that instance with Datadog's answer in StatusReason."""
        name = _unique("dd409")
        sandbox = self.env["SANDBOX_OU_DEVELOPMENT_SANDBOX"]
        orgs = self.emu.client("organizations")
        acct = orgs.list_accounts_for_parent(ParentId=sandbox)["Accounts"][0]["Id"]
        headers = {"DD-API-KEY": self.dd.api_key, "DD-APPLICATION-KEY": self.dd.app_key, "Content-Type": "application/json"}
        body = {"data": {"type": "account", "attributes": {"aws_account_id": acct, "aws_partition": "aws", "auth_config": {"role_name": "Other"}}}}
        req = urllib.request.Request(f"{self.dd.url}/api/v2/integration/aws/accounts", data=json.dumps(body).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(req) as resp:
            self.assertEqual(resp.status, 200)
        op = wait_operation(self.cf, name, self._create(name, sandbox))
        self.assertEqual(op["Status"], "FAILED")
        inst = all_instances(self.cf, name)[0]
        self.assertEqual(inst["StackInstanceStatus"]["DetailedStatus"], "FAILED")
        self.assertIn("Account already exists", inst["StatusReason"])
        self.assertIn("Datadog API returned error", inst["StatusReason"])
        results = self.cf.list_stack_set_operation_results(StackSetName=name, OperationId=op["OperationId"])["Summaries"]
        self.assertIn("409", results[0]["StatusReason"])

    def test_wrong_keys_fail_with_forbidden(self):
        """Keys Datadog rejects (403) fail the instance; the reason names the answer, never the keys."""
        name = _unique("dd403")
        self.cf.create_stack_set(
            StackSetName=name, TemplateURL=self.env["SANDBOX_AWS_TEMPLATE_URL"], PermissionModel="SERVICE_MANAGED",
            AutoDeployment={"Enabled": True}, Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[{"ParameterKey": "DatadogApiKey", "ParameterValue": "wrong-key-value"}, {"ParameterKey": "DatadogAppKey", "ParameterValue": "wrong-app-value"}],
        )
        op = self.cf.create_stack_instances(
            StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": [self.env["SANDBOX_OU_DEVELOPMENT_SANDBOX"]]}, Regions=["us-east-1"]
        )["OperationId"]
        self.assertEqual(wait_operation(self.cf, name, op)["Status"], "FAILED")
        inst = all_instances(self.cf, name)[0]
        self.assertIn("Forbidden", inst["StatusReason"])
        self.assertNotIn("wrong-key-value", inst["StatusReason"])

    def test_update_of_an_account_missing_in_datadog_fails(self):
        """Stack update when Datadog no longer has the account: 'Datadog account not found.'"""
        name = _unique("ddgone")
        sandbox = self.env["SANDBOX_OU_DEVELOPMENT_SANDBOX"]
        self.assertEqual(wait_operation(self.cf, name, self._create(name, sandbox))["Status"], "SUCCEEDED")
        self.dd.admin("POST", "reset")
        op_id = self.cf.update_stack_set(
            StackSetName=name, UsePreviousTemplate=True, Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[
                {"ParameterKey": "DatadogApiKey", "UsePreviousValue": True},
                {"ParameterKey": "DatadogAppKey", "UsePreviousValue": True},
                {"ParameterKey": "IAMRoleName", "ParameterValue": "RenamedRole"},
            ],
        )["OperationId"]
        self.assertEqual(wait_operation(self.cf, name, op_id)["Status"], "FAILED")
        self.assertIn("Datadog account not found.", all_instances(self.cf, name)[0]["StatusReason"])


# ================================================================== scale


class ScaleTest(unittest.TestCase):
    """5,000 instances over 50 OUs with --instance-seconds 0 create and list quickly."""

    def test_five_thousand_instances(self):
        seed = {"organizational_units": [{"name": f"OU{i:02d}", "accounts": 100} for i in range(50)]}
        path = Path(tempfile.mkdtemp(prefix="aws-emulator-seed-")) / "big.json"
        path.write_text(json.dumps(seed))
        emu = Emulator(seed=path)
        try:
            emu.settings(instance_seconds=0.0)
            cf = emu.client("cloudformation")
            ous = [v for k, v in emu.env.items() if k.startswith("SANDBOX_OU_")]
            self.assertEqual(len(ous), 50)
            cf.create_stack_set(StackSetName="big", TemplateBody=PLAIN_TEMPLATE, PermissionModel="SERVICE_MANAGED", AutoDeployment={"Enabled": True})
            start = time.monotonic()
            op = cf.create_stack_instances(
                StackSetName="big", DeploymentTargets={"OrganizationalUnitIds": ous}, Regions=["us-east-1"],
                OperationPreferences={"MaxConcurrentPercentage": 100, "FailureTolerancePercentage": 100, "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE"},
            )["OperationId"]
            self.assertEqual(wait_operation(cf, "big", op, timeout=120)["Status"], "SUCCEEDED")
            created = time.monotonic() - start
            start = time.monotonic()
            insts = all_instances(cf, "big")
            listed = time.monotonic() - start
            self.assertEqual(len(insts), 5000)
            self.assertEqual(len({i["Account"] for i in insts}), 5000)
            self.assertLess(created, 30, f"create took {created:.1f}s")
            self.assertLess(listed, 30, f"listing took {listed:.1f}s")
            print(f"\nscale: create {created:.2f}s, list 50 pages {listed:.2f}s", file=sys.stderr)
        finally:
            emu.stop()


if __name__ == "__main__":
    unittest.main()
