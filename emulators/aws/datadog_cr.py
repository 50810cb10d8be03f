"""Emulation of the Datadog template's custom resource
(``Custom::DatadogAWSAccountIntegration`` backed by ``DatadogAPICallFunction``):
the HTTP calls its Lambda makes to Datadog on stack Create / Update / Delete,
sent to ``--datadog-url`` instead of ``https://api.<DatadogSite>``.

Input is the resource's evaluated Properties (see templates.py); output is
None on success or the StatusReason CloudFormation would give the stack
instance. Never logs or returns the API/application keys.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import requests

ACCOUNTS_PATH = "/api/v2/integration/aws/accounts"
CALL_SOURCE = "cfn-organizations"
LOGICAL_ID = "DatadogAWSAccountIntegration"
RESOURCE_TYPE = "Custom::DatadogAWSAccountIntegration"
TIMEOUT_SECONDS = 30  # the Lambda's Timeout


class DatadogCustomResource:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self._local = threading.local()

    # ---------------------------------------------------------------- API

    def create(self, props: dict) -> tuple[str | None, str | None]:
        """POST the account. Returns (failure reason, external id)."""
        return self._run("Create", props)

    def update(self, props: dict) -> tuple[str | None, str | None]:
        """GET ?aws_account_id= then PATCH the same body."""
        return self._run("Update", props)

    def delete(self, props: dict) -> str | None:
        """GET ?aws_account_id= then DELETE; none found counts as success."""
        return self._run("Delete", props)[0]

    # ----------------------------------------------------------- internals

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.trust_env = False  # never route loopback calls through a proxy
            self._local.session = s
        return s

    def _headers(self, props: dict) -> dict[str, str]:
        return {
            "DD-API-KEY": str(props.get("APIKey", "")),
            "DD-APPLICATION-KEY": str(props.get("APPKey", "")),
            "Dd-Aws-Api-Call-Source": CALL_SOURCE,
        }

    @staticmethod
    def body(props: dict) -> dict[str, Any]:
        """The request body the Lambda sends on POST and PATCH."""
        return {
            "data": {
                "type": "account",
                "attributes": {
                    "aws_account_id": props.get("AccountId"),
                    "account_tags": props.get("AccountTags"),
                    "aws_partition": props.get("AWSPartition"),
                    "auth_config": {"role_name": props.get("RoleName")},
                    "metrics_config": {"enabled": props.get("DisableMetricCollection") == "false"},
                    "resources_config": {
                        "cloud_security_posture_management_collection": props.get("CloudSecurityPostureManagement") == "true",
                        "extended_collection": props.get("DisableResourceCollection") == "false",
                    },
                },
            }
        }

    def _request(self, method: str, path: str, props: dict, *, params=None, body=None):
        headers = self._headers(props)
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        resp = self._session().request(
            method, self.base_url + path, headers=headers, params=params, data=data, timeout=TIMEOUT_SECONDS
        )
        payload: Any = ""
        if resp.content:
            payload = json.loads(resp.content)
        return resp.status_code, payload

    def _run(self, request_type: str, props: dict) -> tuple[str | None, str | None]:
        try:
            uuid_ = ""
            if request_type != "Create":
                code, found = self._request(
                    "GET", ACCOUNTS_PATH, props, params={"aws_account_id": props.get("AccountId")}
                )
                if code not in (200, 204):
                    return _failed(f"Datadog API returned error: {found}"), None
                data = found["data"]
                if len(data) == 0:
                    if request_type == "Delete":
                        return None, None
                    return _failed("Datadog account not found."), None
                if len(data) > 1:
                    return _failed("Datadog account not unique."), None
                uuid_ = data[0]["id"]
            if request_type == "Create":
                code, payload = self._request("POST", ACCOUNTS_PATH, props, body=self.body(props))
            elif request_type == "Update":
                code, payload = self._request("PATCH", f"{ACCOUNTS_PATH}/{uuid_}", props, body=self.body(props))
            else:
                code, payload = self._request("DELETE", f"{ACCOUNTS_PATH}/{uuid_}", props)
            if code not in (200, 204):
                return _failed(f"Datadog API returned error: {payload}"), None
            external_id = None
            if request_type != "Delete":
                external_id = payload["data"]["attributes"]["auth_config"]["external_id"]
            return None, external_id
        except Exception as exc:  # noqa: BLE001 - the Lambda reports every exception the same way
            return _failed(f"Exception during processing: {_describe(exc)}"), None


def _describe(exc: Exception) -> str:
    if isinstance(exc, requests.ConnectionError):
        return "<urlopen error [Errno 111] Connection refused>"
    if isinstance(exc, requests.Timeout):
        return "<urlopen error timed out>"
    return str(exc)


def _failed(message: str) -> str:
    """StatusReason of a stack instance whose custom resource answered FAILED,
    in CloudFormation's words."""
    returned = json.dumps({"Message": message})
    return (
        f"ResourceLogicalId:{LOGICAL_ID}, ResourceType:{RESOURCE_TYPE}, "
        f"ResourceStatusReason:Received response status [FAILED] from custom resource. "
        f"Message returned: {returned} (RequestId: {uuid.uuid4()})."
    )
