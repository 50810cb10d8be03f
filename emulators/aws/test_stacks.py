"""End-to-end tests of the management account's plain stack (stacks.py):
Datadog's template deployed with CreateStack runs the same custom resource
as a stack instance, in time, with the same faults, against the Rust
Datadog fake. Run with the other emulator tests:

    .venv/bin/python -m unittest discover -s emulators/aws -q
"""

from __future__ import annotations

import json
import time
import unittest
import urllib.request

from botocore.exceptions import ClientError

from test_emulator import Emulator, FakeDatadog, _unique, error_code

MASKED = "****"


def wait_stack(cf, name: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        stack = cf.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack
        if time.monotonic() > deadline:
            raise AssertionError(f"stack {name} still {stack['StackStatus']}")
        time.sleep(0.05)


class ManagementStackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.dd = FakeDatadog()
        cls.emu = Emulator(datadog_url=cls.dd.url)
        cls.cf = cls.emu.client("cloudformation")
        cls.env = cls.emu.env
        cls.mgmt = cls.env["SANDBOX_MANAGEMENT_ACCOUNT_ID"]

    @classmethod
    def tearDownClass(cls) -> None:
        cls.emu.stop()
        cls.dd.stop()

    def setUp(self) -> None:
        self.dd.admin("POST", "reset")
        self.emu.admin("DELETE", "faults")
        self.emu.settings(instance_seconds=0.0)

    def _params(self, **extra) -> list[dict]:
        values = {"DatadogApiKey": self.dd.api_key, "DatadogAppKey": self.dd.app_key, **extra}
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]

    def _create(self, name: str, **params) -> str:
        return self.cf.create_stack(
            StackName=name,
            TemplateURL=self.env["SANDBOX_AWS_TEMPLATE_URL"],
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=self._params(**params),
        )["StackId"]

    def _dd_accounts(self) -> dict[str, dict]:
        req = urllib.request.Request(
            f"{self.dd.url}/api/v2/integration/aws/accounts",
            headers={"DD-API-KEY": self.dd.api_key, "DD-APPLICATION-KEY": self.dd.app_key},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            data = json.loads(resp.read())["data"]
        return {item["attributes"]["aws_account_id"]: item["attributes"] for item in data}

    def _dd_requests(self, method: str) -> list[dict]:
        _, reqs = self.dd.admin("GET", "requests")
        return [r for r in reqs["requests"] if r["method"] == method and "/integration/aws/accounts" in r["path"]]

    def test_create_registers_the_management_account_and_delete_removes_it(self):
        name = _unique("mgmt")
        self.emu.settings(instance_seconds=0.3)
        stack_id = self._create(name, CloudSecurityPostureManagement="true")
        first = self.cf.describe_stacks(StackName=name)["Stacks"][0]
        self.assertEqual(first["StackStatus"], "CREATE_IN_PROGRESS", "a stack takes instance_seconds, like an instance")
        stack = wait_stack(self.cf, name)
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE")
        self.assertEqual(stack["StackId"], stack_id)
        self.assertTrue(stack_id.startswith(f"arn:aws:cloudformation:us-east-1:{self.mgmt}:stack/{name}/"))
        params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
        self.assertEqual(params["DatadogApiKey"], MASKED, "NoEcho parameters are masked")
        self.assertEqual(params["CloudSecurityPostureManagement"], "true")
        self.assertEqual(params["IAMRoleName"], "DatadogIntegrationRole", "defaults are filled in")
        account = self._dd_accounts()[self.mgmt]
        self.assertTrue(account["resources_config"]["cloud_security_posture_management_collection"])
        self.assertEqual(account["account_tags"], [f"aws_account:{self.mgmt}"])
        body = self.cf.get_template(StackName=name)["TemplateBody"]
        self.assertIn("DatadogAWSAccountIntegration", body if isinstance(body, str) else json.dumps(body))
        events = self.cf.describe_stack_events(StackName=name)["StackEvents"]
        self.assertEqual(events[0]["ResourceStatus"], "CREATE_COMPLETE", "newest first")
        self.assertEqual(events[-1]["ResourceStatus"], "CREATE_IN_PROGRESS")

        self.emu.settings(instance_seconds=0.0)
        self.cf.delete_stack(StackName=name)
        with self.assertRaises(ClientError) as gone:
            for _ in range(600):
                self.cf.describe_stacks(StackName=name)
                time.sleep(0.05)
        self.assertEqual(error_code(gone.exception), "ValidationError")
        self.assertIn(f"Stack with id {name} does not exist", str(gone.exception))
        self.assertEqual(self.cf.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"], "DELETE_COMPLETE")
        self.assertNotIn(self.mgmt, self._dd_accounts())
        self.cf.delete_stack(StackName=name)  # deleting what is gone succeeds

    def test_update_patches_only_when_properties_change(self):
        name = _unique("mgmt")
        self._create(name)
        wait_stack(self.cf, name)
        keep_keys = [{"ParameterKey": k, "UsePreviousValue": True} for k in ("DatadogApiKey", "DatadogAppKey")]
        with self.assertRaises(ClientError) as same:
            self.cf.update_stack(StackName=name, UsePreviousTemplate=True, Capabilities=["CAPABILITY_NAMED_IAM"], Parameters=keep_keys)
        self.assertIn("No updates are to be performed.", str(same.exception))
        self.cf.update_stack(
            StackName=name, UsePreviousTemplate=True, Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=keep_keys + [{"ParameterKey": "DisableMetricCollection", "ParameterValue": "true"}],
        )
        stack = wait_stack(self.cf, name)
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE")
        self.assertFalse(self._dd_accounts()[self.mgmt]["metrics_config"]["enabled"])
        self.assertEqual(len(self._dd_requests("PATCH")), 1)
        self.cf.delete_stack(StackName=name)

    def test_faults_roll_back_create_and_update_and_fail_delete(self):
        name = _unique("mgmt")
        reason = "Injected: role creation failed"
        self.emu.admin("POST", "faults/instance-failures", {"accounts": [self.mgmt], "reason": reason, "count": 1})
        self._create(name)
        stack = wait_stack(self.cf, name)
        self.assertEqual(stack["StackStatus"], "ROLLBACK_COMPLETE")
        events = self.cf.describe_stack_events(StackName=name)["StackEvents"]
        failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
        self.assertEqual(failed[0]["ResourceStatusReason"], reason)
        self.assertEqual(failed[0]["LogicalResourceId"], "DatadogAWSAccountIntegration")
        self.assertNotIn(self.mgmt, self._dd_accounts(), "the fault hit before any Datadog call")
        with self.assertRaises(ClientError) as refused:
            self.cf.update_stack(StackName=name, UsePreviousTemplate=True, Capabilities=["CAPABILITY_NAMED_IAM"])
        self.assertIn("ROLLBACK_COMPLETE state and can not be updated", str(refused.exception))
        with self.assertRaises(ClientError) as exists:
            self._create(name)
        self.assertEqual(error_code(exists.exception), "AlreadyExistsException")
        self.cf.delete_stack(StackName=name)
        self._wait_gone(name)
        self._create(name)
        self.assertEqual(wait_stack(self.cf, name)["StackStatus"], "CREATE_COMPLETE")

        # An update that fails keeps the previous parameters.
        self.emu.admin("POST", "faults/instance-failures", {"accounts": [self.mgmt], "reason": reason, "count": 1})
        self.cf.update_stack(
            StackName=name, UsePreviousTemplate=True, Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[{"ParameterKey": "IAMRoleName", "ParameterValue": "Other"}]
            + [{"ParameterKey": k, "UsePreviousValue": True} for k in ("DatadogApiKey", "DatadogAppKey")],
        )
        stack = wait_stack(self.cf, name)
        self.assertEqual(stack["StackStatus"], "UPDATE_ROLLBACK_COMPLETE")
        params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
        self.assertEqual(params["IAMRoleName"], "DatadogIntegrationRole")

        # A delete that fails leaves the stack DELETE_FAILED; the next delete finishes it.
        self.emu.admin("POST", "faults/instance-failures", {"accounts": [self.mgmt], "reason": reason, "count": 1})
        self.cf.delete_stack(StackName=name)
        stack = wait_stack(self.cf, name)
        self.assertEqual(stack["StackStatus"], "DELETE_FAILED")
        self.assertIn(self.mgmt, self._dd_accounts())
        self.cf.delete_stack(StackName=name)
        self._wait_gone(name)
        self.assertNotIn(self.mgmt, self._dd_accounts())

    def test_datadog_refusal_is_the_stack_event_reason(self):
        name = _unique("mgmt")
        self._create(name)
        wait_stack(self.cf, name)
        other = _unique("mgmt")
        self._create(other)  # the account is registered already: Datadog answers 409
        stack = wait_stack(self.cf, other)
        self.assertEqual(stack["StackStatus"], "ROLLBACK_COMPLETE")
        failed = [e for e in self.cf.describe_stack_events(StackName=other)["StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED"]
        self.assertTrue(failed[0]["ResourceStatusReason"].startswith("Received response status [FAILED] from custom resource."))
        self.assertIn("409", failed[0]["ResourceStatusReason"])
        for n in (name, other):
            self.cf.delete_stack(StackName=n)
            self._wait_gone(n)

    def test_admin_changes_parameters_and_deletes_by_hand(self):
        name = _unique("mgmt")
        self._create(name)
        wait_stack(self.cf, name)
        status, out = self.emu.admin("POST", f"stacks/{name}/parameters", {"parameters": {"DisableResourceCollection": "true"}})
        self.assertEqual(status, 200, out)
        stack = wait_stack(self.cf, name)
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE")
        params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
        self.assertEqual(params["DisableResourceCollection"], "true")
        self.assertFalse(self._dd_accounts()[self.mgmt]["resources_config"]["extended_collection"])
        _, listed = self.emu.admin("GET", "stacks")
        self.assertIn(name, [s["name"] for s in listed["stacks"]])
        self.assertNotIn(self.dd.api_key, json.dumps(listed), "NoEcho values never leave the emulator")
        status, out = self.emu.admin("POST", f"stacks/{name}/parameters", {"parameters": {}})
        self.assertEqual(status, 400, out)
        status, out = self.emu.admin("DELETE", f"stacks/{name}")
        self.assertEqual((status, out["custom_resource"]), (200, "deleted"))
        self.assertNotIn(self.mgmt, self._dd_accounts())
        with self.assertRaises(ClientError):
            self.cf.describe_stacks(StackName=name)
        status, _ = self.emu.admin("DELETE", f"stacks/{name}")
        self.assertEqual(status, 404)

    def _wait_gone(self, name: str) -> None:
        for _ in range(600):
            try:
                self.cf.describe_stacks(StackName=name)
            except ClientError:
                return
            time.sleep(0.05)
        raise AssertionError(f"stack {name} was not deleted")


if __name__ == "__main__":
    unittest.main()
