"""Plain CloudFormation stacks in the management account: CreateStack,
UpdateStack, DeleteStack, DescribeStacks, DescribeStackEvents, GetTemplate
and ListStacks, answered here instead of by moto.

Why: a service-managed StackSet never deploys to the organization's
management account, so covering it means deploying Datadog's template there
as an ordinary stack. That stack must run the template's custom resource
(register the account in Datadog, re-PATCH it on update, delete it) exactly
as a stack instance does, with the same timing (``instance_seconds`` and
jitter) and the same instance-failure faults (keyed by the management
account and the stack's region). moto would only store the template.

Statuses follow CloudFormation: CREATE_IN_PROGRESS -> CREATE_COMPLETE, or
(the custom resource failed) -> ROLLBACK_IN_PROGRESS -> ROLLBACK_COMPLETE,
a stack that can only be deleted; UPDATE_IN_PROGRESS -> UPDATE_COMPLETE, or
-> UPDATE_ROLLBACK_COMPLETE with the previous parameters kept;
DELETE_IN_PROGRESS -> DELETE_COMPLETE (gone by name, still described by
id), or DELETE_FAILED. Each step is an event (DescribeStackEvents, newest
first) whose ResourceStatusReason is what the console shows.
"""

from __future__ import annotations

import itertools
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from query_protocol import ApiError, validation_error
from stacksets import RequestCtx

if TYPE_CHECKING:
    from context import Context
    from templates import Template

ACTIONS = (
    "CreateStack",
    "UpdateStack",
    "DeleteStack",
    "DescribeStacks",
    "DescribeStackEvents",
    "GetTemplate",
    "ListStacks",
)
MASKED = "****"
STACK_TYPE = "AWS::CloudFormation::Stack"
_NAME_RE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]*$")
# CloudFormation's wording when a resource's failure rolls the stack back.
CREATE_ROLLBACK = "The following resource(s) failed to create: [{id}]. Rollback requested by user."
UPDATE_ROLLBACK = "The following resource(s) failed to update: [{id}]. "
DELETE_FAILED = "The following resource(s) failed to delete: [{id}]. "
NO_UPDATES = "No updates are to be performed."
_REASON_RE = re.compile(r"ResourceStatusReason:(?P<reason>.*)$", re.S)


def resource_reason(reason: str) -> str:
    """A stack instance's StatusReason names the resource first; a stack
    event carries only the ResourceStatusReason part."""
    m = _REASON_RE.search(reason)
    return m.group("reason") if m else reason


@dataclass
class Stack:
    name: str
    id: str
    region: str
    template: "Template"
    params: dict[str, str]
    capabilities: list[str]
    tags: list[dict[str, str]]
    description: str | None
    status: str
    reason: str | None = None
    created: float = field(default_factory=time.time)
    updated: float | None = None
    deleted: float | None = None
    # What the custom resource holds: None = never created (or rolled back).
    deployed: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    client_tokens: set[str] = field(default_factory=set)
    # (template, params) while an update runs: what a failed update rolls back to.
    previous: tuple[Any, dict[str, str]] | None = None

    @property
    def busy(self) -> bool:
        return self.status.endswith("_IN_PROGRESS")


class Stacks:
    def __init__(self, ctx: "Context"):
        self.ctx = ctx
        self.live: dict[tuple[str, str], Stack] = {}  # (region, name) -> the stack of that name now
        self.by_id: dict[str, Stack] = {}  # every stack ever, deleted ones too
        self._event_seq = itertools.count(1)

    def handle(self, action: str, params: dict[str, Any], rctx: RequestCtx) -> dict[str, Any]:
        method = getattr(self, "_" + action)
        with self.ctx.lock:
            return method(params, rctx)

    # ------------------------------------------------------------- helpers

    def _find(self, name_or_id: str, region: str, *, deleted_ok: bool) -> Stack:
        stack = self.by_id.get(name_or_id) if name_or_id.startswith("arn:") else self.live.get((region, name_or_id))
        if stack is None or stack.region != region or (stack.deleted is not None and not deleted_ok):
            raise validation_error(f"Stack with id {name_or_id} does not exist")
        return stack

    def _event(self, stack: Stack, logical_id: str, rtype: str, status: str, reason: str | None = None) -> None:
        physical = stack.id if rtype == STACK_TYPE else (stack.deployed or {}).get("external_id") or ""
        stack.events.append(
            {
                "StackId": stack.id,
                "EventId": f"{logical_id}-{uuid.uuid4()}" if rtype != STACK_TYPE else str(uuid.uuid4()),
                "StackName": stack.name,
                "LogicalResourceId": logical_id,
                "PhysicalResourceId": physical,
                "ResourceType": rtype,
                "Timestamp": time.time(),
                "ResourceStatus": status,
                "ResourceStatusReason": reason,
                "_seq": next(self._event_seq),
            }
        )

    def _stack_event(self, stack: Stack, status: str, reason: str | None = None) -> None:
        stack.status, stack.reason = status, reason
        self._event(stack, stack.name, STACK_TYPE, status, reason)

    def _template(self, p: dict) -> "Template | None":
        body, url = p.get("TemplateBody"), p.get("TemplateURL")
        if body is not None and url is not None:
            raise validation_error("Specify exactly one of TemplateBody or TemplateURL.")
        if body is not None:
            return self.ctx.templates.from_body(body)
        if url is not None:
            return self.ctx.templates.from_url(url)
        return None

    def _start(self, stack: Stack, work) -> None:
        t = threading.Thread(target=self._run, args=(stack, work), name=f"stack-{stack.name}", daemon=True)
        t.start()

    def _run(self, stack: Stack, work) -> None:
        """One stack action in time: the custom resource runs off the lock,
        the whole action takes ``instance_seconds`` (+ jitter) like an instance."""
        started = time.monotonic()
        try:
            outcome = work()
        except Exception as exc:  # noqa: BLE001 - never leave a stack IN_PROGRESS
            outcome = ("failed", f"Internal emulator error: {exc}", None)
        s = self.ctx.settings
        remaining = s.instance_seconds + (random.uniform(0, s.instance_jitter_seconds) if s.instance_jitter_seconds > 0 else 0.0)
        remaining -= time.monotonic() - started
        if remaining > 0 and self.ctx.runner.stopping.wait(remaining):
            return
        with self.ctx.lock:
            self._finish(stack, *outcome)

    def _finish(self, stack: Stack, kind: str, reason: str | None, deployed: dict | None) -> None:
        rid = stack.template.custom_resource_id or "Resources"
        cr_type = "Custom::DatadogAWSAccountIntegration"
        if stack.status == "CREATE_IN_PROGRESS":
            if kind == "ok":
                stack.deployed = deployed
                if deployed is not None:
                    self._event(stack, rid, cr_type, "CREATE_COMPLETE")
                self._stack_event(stack, "CREATE_COMPLETE")
            else:
                self._event(stack, rid, cr_type, "CREATE_FAILED", reason)
                self._stack_event(stack, "ROLLBACK_IN_PROGRESS", CREATE_ROLLBACK.format(id=rid))
                self._stack_event(stack, "ROLLBACK_COMPLETE")
        elif stack.status == "UPDATE_IN_PROGRESS":
            if kind == "ok":
                stack.deployed = deployed
                if deployed is not None:
                    self._event(stack, rid, cr_type, "UPDATE_COMPLETE")
                stack.updated = time.time()
                self._stack_event(stack, "UPDATE_COMPLETE")
            else:
                if stack.previous is not None:
                    stack.template, stack.params = stack.previous
                self._event(stack, rid, cr_type, "UPDATE_FAILED", reason)
                self._stack_event(stack, "UPDATE_ROLLBACK_IN_PROGRESS", UPDATE_ROLLBACK.format(id=rid))
                self._stack_event(stack, "UPDATE_ROLLBACK_COMPLETE")
            stack.previous = None
        elif stack.status == "DELETE_IN_PROGRESS":
            if kind == "ok":
                stack.deployed = None
                stack.deleted = time.time()
                self._stack_event(stack, "DELETE_COMPLETE")
                if self.live.get((stack.region, stack.name)) is stack:
                    del self.live[(stack.region, stack.name)]
            else:
                self._event(stack, rid, cr_type, "DELETE_FAILED", reason)
                self._stack_event(stack, "DELETE_FAILED", DELETE_FAILED.format(id=rid))

    def _account(self) -> str:
        return self.ctx.org.management_account_id

    def _deploy(self, stack: Stack, template: "Template", values: dict[str, str]):
        """The work of a create or update: the custom resource's Create, or
        Update only when its properties changed (CloudFormation sends Update
        only then)."""
        ctx = self.ctx
        account = self._account()

        def work():
            fault = ctx.faults.take_instance_failure(account, stack.region)
            if fault is not None:
                return ("failed", resource_reason(fault), None)
            new_props = template.custom_resource_props(values, account, stack.region)
            deployed = stack.deployed
            old_props = deployed.get("props") if deployed else None
            external_id = deployed.get("external_id") if deployed else None
            reason = None
            if old_props is None and new_props is not None:
                reason, external_id = ctx.datadog.create(new_props)
            elif old_props is not None and new_props is None:
                reason = ctx.datadog.delete(old_props)
                external_id = None
            elif old_props is not None and old_props != new_props:
                reason, external_id = ctx.datadog.update(new_props)
            if reason is not None:
                return ("failed", resource_reason(reason), None)
            return ("ok", None, {"props": new_props, "external_id": external_id})

        return work

    def _undeploy(self, stack: Stack, run_custom_resource: bool = True):
        ctx = self.ctx
        account = self._account()

        def work():
            fault = ctx.faults.take_instance_failure(account, stack.region)
            if fault is not None:
                return ("failed", resource_reason(fault), None)
            props = (stack.deployed or {}).get("props")
            if run_custom_resource and props:
                reason = ctx.datadog.delete(props)
                if reason is not None:
                    return ("failed", resource_reason(reason), None)
            return ("ok", None, None)

        return work

    # -------------------------------------------------------------- actions

    def _CreateStack(self, p: dict, rctx: RequestCtx) -> dict:
        name = p["StackName"]
        if len(name) > 128 or not _NAME_RE.match(name):
            raise validation_error(
                f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
            )
        existing = self.live.get((rctx.region, name))
        if existing is not None:
            token = p.get("ClientRequestToken")
            if token and token in existing.client_tokens:
                return {"StackId": existing.id}
            raise ApiError("AlreadyExistsException", f"Stack [{name}] already exists", 400)
        tpl = self._template(p)
        if tpl is None:
            raise validation_error("Either Template URL or Template Body must be specified.")
        tpl.check_capabilities(p.get("Capabilities"))
        values = tpl.resolve_parameters(p.get("Parameters"), None, allow_previous=False)
        tpl.check_values(values)
        stack = Stack(
            name=name,
            id=f"arn:aws:cloudformation:{rctx.region}:{rctx.account_id}:stack/{name}/{uuid.uuid4()}",
            region=rctx.region,
            template=tpl,
            params=values,
            capabilities=list(p.get("Capabilities") or []),
            tags=list(p.get("Tags") or []),
            description=p.get("Description"),
            status="CREATE_IN_PROGRESS",
        )
        if p.get("ClientRequestToken"):
            stack.client_tokens.add(p["ClientRequestToken"])
        self.live[(rctx.region, name)] = stack
        self.by_id[stack.id] = stack
        self._stack_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
        self._start(stack, self._deploy(stack, tpl, values))
        return {"StackId": stack.id}

    def _UpdateStack(self, p: dict, rctx: RequestCtx) -> dict:
        stack = self._find(p["StackName"], rctx.region, deleted_ok=False)
        if stack.status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"):
            raise validation_error(f"Stack:{stack.id} is in {stack.status} state and can not be updated.")
        if p.get("UsePreviousTemplate"):
            if p.get("TemplateBody") is not None or p.get("TemplateURL") is not None:
                raise validation_error("UsePreviousTemplate cannot be combined with TemplateBody or TemplateURL")
            tpl = stack.template
        else:
            tpl = self._template(p)
            if tpl is None:
                raise validation_error("Either Template URL or Template Body must be specified.")
        tpl.check_capabilities(p.get("Capabilities"))
        values = tpl.resolve_parameters(p.get("Parameters"), stack.params, allow_previous=True)
        tpl.check_values(values)
        tags = list(p["Tags"]) if p.get("Tags") is not None else stack.tags
        if tpl.body == stack.template.body and values == stack.params and tags == stack.tags:
            raise validation_error(NO_UPDATES)
        stack.previous = (stack.template, stack.params)
        stack.template, stack.params, stack.tags = tpl, values, tags
        stack.capabilities = list(p.get("Capabilities") or [])
        self._stack_event(stack, "UPDATE_IN_PROGRESS", "User Initiated")
        self._start(stack, self._deploy(stack, tpl, values))
        return {"StackId": stack.id}

    def _DeleteStack(self, p: dict, rctx: RequestCtx) -> dict:
        try:
            stack = self._find(p["StackName"], rctx.region, deleted_ok=True)
        except ApiError:
            return {}  # deleting a stack that does not exist succeeds, as on AWS
        if stack.deleted is not None or stack.status == "DELETE_IN_PROGRESS":
            return {}
        if stack.busy:
            raise validation_error(f"Stack [{stack.name}] cannot be deleted while in status {stack.status}")
        # A stack whose create rolled back holds nothing: no Delete reaches Datadog.
        self._stack_event(stack, "DELETE_IN_PROGRESS", "User Initiated")
        self._start(stack, self._undeploy(stack))
        return {}

    def _describe(self, stack: Stack) -> dict:
        no_echo = stack.template.no_echo_keys
        return {
            "StackId": stack.id,
            "StackName": stack.name,
            "Description": stack.description,
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": MASKED if k in no_echo else v} for k, v in stack.params.items()
            ],
            "CreationTime": stack.created,
            "LastUpdatedTime": stack.updated,
            "DeletionTime": stack.deleted,
            "StackStatus": stack.status,
            "StackStatusReason": stack.reason,
            "DisableRollback": False,
            "Capabilities": stack.capabilities or None,
            "Tags": stack.tags,
            "EnableTerminationProtection": False,
            "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
        }

    def _DescribeStacks(self, p: dict, rctx: RequestCtx) -> dict:
        name = p.get("StackName")
        if name:
            return {"Stacks": [self._describe(self._find(name, rctx.region, deleted_ok=name.startswith("arn:")))]}
        stacks = [s for (r, _), s in sorted(self.live.items()) if r == rctx.region]
        return {"Stacks": [self._describe(s) for s in stacks]}

    def _DescribeStackEvents(self, p: dict, rctx: RequestCtx) -> dict:
        name = p["StackName"]
        stack = self._find(name, rctx.region, deleted_ok=name.startswith("arn:"))
        events = sorted(stack.events, key=lambda e: e["_seq"], reverse=True)
        return {"StackEvents": [{k: v for k, v in e.items() if not k.startswith("_")} for e in events]}

    def _GetTemplate(self, p: dict, rctx: RequestCtx) -> dict:
        name = p.get("StackName") or ""
        stack = self._find(name, rctx.region, deleted_ok=name.startswith("arn:"))
        return {"TemplateBody": stack.template.body, "StagesAvailable": ["Original", "Processed"]}

    def _ListStacks(self, p: dict, rctx: RequestCtx) -> dict:
        want = set(p.get("StackStatusFilter") or [])
        rows = []
        for stack in self.by_id.values():
            if stack.region != rctx.region or (want and stack.status not in want):
                continue
            rows.append(
                {
                    "StackId": stack.id,
                    "StackName": stack.name,
                    "TemplateDescription": stack.description,
                    "CreationTime": stack.created,
                    "LastUpdatedTime": stack.updated,
                    "DeletionTime": stack.deleted,
                    "StackStatus": stack.status,
                    "StackStatusReason": stack.reason,
                }
            )
        return {"StackSummaries": rows}

    # ------------------------------------------------------- out of band

    def admin_find(self, name: str, region: str | None) -> Stack:
        found = [s for (r, n), s in self.live.items() if n == name and region in (None, r)]
        if not found:
            raise KeyError(f"no stack {name!r}" + (f" in {region}" if region else ""))
        if len(found) > 1:
            raise ValueError(f"several stacks are named {name!r}: give region")
        return found[0]

    def update_out_of_band(self, name: str, region: str | None, parameters: dict[str, str]) -> dict:
        """Admin helper: someone changes parameters of the stack by hand (the
        console's "Update stack, use current template"). The custom resource
        runs as for any update; the other parameters keep their values."""
        with self.ctx.lock:
            stack = self.admin_find(name, region)
            given = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
            given += [{"ParameterKey": k, "UsePreviousValue": True} for k in stack.params if k not in parameters]
            self._UpdateStack(
                {"StackName": name, "UsePreviousTemplate": True, "Parameters": given, "Capabilities": stack.capabilities},
                RequestCtx(account_id=self._account(), region=stack.region),
            )
            return {"stack_id": stack.id, "status": stack.status}

    def delete_out_of_band(self, name: str, region: str | None, *, run_custom_resource: bool) -> dict:
        """Admin helper: the stack is deleted by hand (its custom resource's
        Delete runs, so the Datadog account goes too, unless told not to).
        Immediate: the stack is gone when this returns."""
        with self.ctx.lock:
            stack = self.admin_find(name, region)
            props = (stack.deployed or {}).get("props")
            stack.deployed = None
            stack.deleted = time.time()
            self._stack_event(stack, "DELETE_COMPLETE")
            del self.live[(stack.region, stack.name)]
        reason = None
        if run_custom_resource and props:
            reason = self.ctx.datadog.delete(props)
        return {"removed": True, "custom_resource": "skipped" if not (run_custom_resource and props) else ("failed" if reason else "deleted"), "reason": reason}

    def dump(self) -> dict:
        with self.ctx.lock:
            return {
                "stacks": [
                    {
                        "name": s.name,
                        "id": s.id,
                        "region": s.region,
                        "status": s.status,
                        "status_reason": s.reason,
                        "parameters": {k: (MASKED if k in s.template.no_echo_keys else v) for k, v in s.params.items()},
                        "registered": bool((s.deployed or {}).get("props")),
                    }
                    for s in self.live.values()
                ],
                "deleted": [s.name for s in self.by_id.values() if s.deleted is not None],
            }
