"""The StackSet part of the CloudFormation API, implemented here instead of
in moto (see README "moto gaps"). One method per action takes the decoded
request parameters and returns the result dict that query_protocol encodes;
AWS errors are raised as ``ApiError``.

Also owns auto-deployment: ``on_org_changed`` turns organization changes
into CREATE / DELETE operations for stack sets with AutoDeployment enabled.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import itertools
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from model import Definition, Instance, Operation, Result, StackSet
from operations import effective_preferences
from query_protocol import ApiError, validation_error
from regions import DEFAULT_REGION, check_regions

if TYPE_CHECKING:
    from context import Context

SERVICE_MANAGED = "SERVICE_MANAGED"
SELF_MANAGED = "SELF_MANAGED"
MASKED = "****"
_NAME_RE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]*$")
_DETAILED = {"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "INOPERABLE", "SKIPPED_SUSPENDED_ACCOUNT", "FAILED_IMPORT"}
_RESULT_STATUSES = {"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"}
TRUSTED_ACCESS_REQUIRED = "You must enable organizations access to operate a service managed stack set"

# Actions this module answers; every other CloudFormation action goes to moto.
ACTIONS = (
    "CreateStackSet",
    "DescribeStackSet",
    "UpdateStackSet",
    "DeleteStackSet",
    "ListStackSets",
    "CreateStackInstances",
    "DeleteStackInstances",
    "ListStackInstances",
    "DescribeStackInstance",
    "DescribeStackSetOperation",
    "ListStackSetOperations",
    "ListStackSetOperationResults",
    "StopStackSetOperation",
    "ListStackSetAutoDeploymentTargets",
    "DescribeOrganizationsAccess",
    "ActivateOrganizationsAccess",
    "DeactivateOrganizationsAccess",
)
# StackSet actions moto would answer wrongly; we refuse them honestly.
UNSUPPORTED = (
    "UpdateStackInstances",
    "DetectStackSetDrift",
    "ImportStacksToStackSet",
    "ListStackInstanceResourceDrifts",
)
MUTATING = ("UpdateStackSet", "DeleteStackSet", "CreateStackInstances", "DeleteStackInstances", "UpdateStackInstances")


@dataclass
class RequestCtx:
    account_id: str
    region: str


# AWS's cap on OUs in one instance operation (CreateStackInstances, DeleteStackInstances).
MAX_OUS_PER_OPERATION = 50


def _not_found(name: str) -> ApiError:
    return ApiError("StackSetNotFoundException", f"StackSet {name} not found")


def _fingerprint(action: str, params: dict[str, Any]) -> str:
    body = {k: v for k, v in params.items() if k not in ("OperationId",)}
    raw = json.dumps([action, body], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _token(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode("utf-8")).decode("ascii")


def _untoken(token: str | None) -> Any:
    if token is None:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except Exception:  # noqa: BLE001
        raise validation_error("Invalid NextToken") from None


def _offset(p: dict) -> int:
    start = _untoken(p.get("NextToken"))
    if start is None:
        return 0
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise validation_error("Invalid NextToken")
    return start


def _page_size(p: dict) -> int:
    return p.get("MaxResults") or 100


class StackSets:
    def __init__(self, ctx: "Context"):
        self.ctx = ctx
        # Keyed by StackSet.key (administration region, name): a set is
        # invisible from other regions (and other CallAs), as on AWS.
        self.sets: dict[tuple[str, str], StackSet] = {}
        self.deleted: list[dict[str, Any]] = []
        self._versions = itertools.count(1)

    # ================================================================ helpers

    def handle(self, action: str, params: dict[str, Any], rctx: RequestCtx) -> dict[str, Any]:
        if action in UNSUPPORTED:
            raise ApiError("InvalidOperationException", f"{action} is not emulated by the sandbox AWS emulator")
        method = getattr(self, "_" + action)
        with self.ctx.lock:
            return method(params, rctx)

    def _get(self, p: dict, rctx: RequestCtx) -> StackSet:
        """The set named (or with the id) ``StackSetName`` in the caller's
        region and CallAs namespace; any other gets the same not-found."""
        name = p["StackSetName"]
        ss = self.sets.get((rctx.region, name.split(":", 1)[0]))
        if ss is None or (":" in name and ss.id != name) or ss.call_as != (p.get("CallAs") or "SELF"):
            raise _not_found(name)
        return ss

    def admin_find(self, name: str, admin_region: str | None = None) -> StackSet:
        """Admin API lookup by name, so callers that predate regional keying
        keep working: the set in ``admin_region`` if given, otherwise the
        only set of that name, else the one in us-east-1."""
        found = [ss for ss in self.sets.values() if ss.name == name and admin_region in (None, ss.region)]
        if len(found) > 1:
            found = [ss for ss in found if ss.region == DEFAULT_REGION]
            if not found:
                raise ValueError(f"several stack sets are named {name!r}, none in {DEFAULT_REGION}: give admin_region")
        if not found:
            raise KeyError(f"no stack set {name!r}" + (f" in {admin_region}" if admin_region else ""))
        return found[0]

    def _is_admin_default(self, ss: StackSet) -> bool:
        try:
            return self.admin_find(ss.name) is ss
        except ValueError:
            return False

    def _template(self, p: dict):
        body, url = p.get("TemplateBody"), p.get("TemplateURL")
        if body is not None and url is not None:
            raise validation_error("Specify exactly one of TemplateBody or TemplateURL.")
        if body is not None:
            return self.ctx.templates.from_body(body)
        if url is not None:
            return self.ctx.templates.from_url(url)
        return None

    @staticmethod
    def _check_regions(p: dict) -> None:
        """Instance regions (Regions, RegionOrder) must be real regions: AWS
        refuses a typo synchronously instead of failing the operation."""
        check_regions(p.get("Regions"))
        check_regions((p.get("OperationPreferences") or {}).get("RegionOrder"))

    @staticmethod
    def _check_ou_count(action: str, p: dict) -> None:
        """AWS takes at most 50 OUs in one CreateStackInstances or
        DeleteStackInstances (documented in both actions' API reference; the
        exact error is not, so the code and wording here are our approximation)."""
        ous = (p.get("DeploymentTargets") or {}).get("OrganizationalUnitIds") or []
        if len(ous) > MAX_OUS_PER_OPERATION:
            raise validation_error(
                f"The maximum number of organizational units (OUs) supported by a {action} operation is "
                f"{MAX_OUS_PER_OPERATION}; {len(ous)} were given. Split the operation into calls of at most "
                f"{MAX_OUS_PER_OPERATION} OUs each."
            )

    def _require_trusted_access(self, ss_model: str) -> None:
        if ss_model == SERVICE_MANAGED and not self.ctx.org.trusted_access():
            raise validation_error(TRUSTED_ACCESS_REQUIRED)

    def _fault_in_progress(self, ss: StackSet) -> None:
        # A fault injected without admin_region is for the set admin_find picks.
        if self.ctx.faults.take_in_progress(ss.name, ss.region, self._is_admin_default(ss)):
            raise ApiError("OperationInProgressException", f"Another Operation on StackSet {ss.arn} is in progress")

    def _idempotent(self, ss: StackSet, action: str, p: dict) -> tuple[str, str, str | None]:
        """(operation id, fingerprint, existing id to return or None)."""
        op_id = p.get("OperationId") or str(uuid.uuid4())
        fp = _fingerprint(action, p)
        existing = ss.operations.get(op_id)
        if existing is not None:
            if existing.fingerprint == fp:
                return op_id, fp, op_id
            raise ApiError(
                "OperationIdAlreadyExistsException",
                f"The operation ID {op_id} already exists for StackSet {ss.name} with a different request",
            )
        return op_id, fp, None

    def _check_in_progress(self, ss: StackSet) -> None:
        if ss.managed_execution:
            return  # managed execution queues conflicting operations instead
        if ss.active_operation() is not None:
            raise ApiError("OperationInProgressException", f"Another Operation on StackSet {ss.arn} is in progress")

    def _resolve_targets(self, ss: StackSet, p: dict, *, for_create: bool) -> dict[str, str]:
        """account -> OrganizationalUnitId (or "" for self-managed), in order."""
        org = self.ctx.org
        dt = p.get("DeploymentTargets") or {}
        if dt.get("AccountsUrl"):
            raise validation_error("DeploymentTargets.AccountsUrl is not supported by the emulator")
        if ss.permission_model == SELF_MANAGED:
            accounts = p.get("Accounts") or dt.get("Accounts") or []
            if not accounts:
                raise validation_error("Accounts must be specified for SELF_MANAGED stack sets")
            return {a: "" for a in accounts}
        if p.get("Accounts") or not dt.get("OrganizationalUnitIds"):
            raise validation_error(
                "StackSets with SERVICE_MANAGED permission model can only have OrganizationalUnit as target"
            )
        ous = dt["OrganizationalUnitIds"]
        missing = [ou for ou in ous if not org.ou_exists(ou)]
        if missing:
            raise validation_error(f"OrganizationalUnitIds {missing} do not exist in the organization")
        depth = {ou: len(org.ancestors(ou)) for ou in ous}
        resolved: dict[str, str] = {}
        for ou in ous:
            for a in org.accounts_under(ou):
                prev = resolved.get(a.id)
                if prev is None or depth[prev] < depth[ou]:
                    resolved[a.id] = ou
        filt = dt.get("AccountFilterType") or "NONE"
        listed = dt.get("Accounts") or []
        if filt == "INTERSECTION":
            resolved = {a: ou for a, ou in resolved.items() if a in listed}
        elif filt == "DIFFERENCE":
            resolved = {a: ou for a, ou in resolved.items() if a not in listed}
        elif filt == "UNION":
            for a in listed:
                info = org.account(a)
                if info is None or a == org.management_account_id:
                    raise validation_error(f"Account {a} is not a member account of the organization")
                resolved.setdefault(a, info.parent_id)
        if for_create and self.ctx.settings.suspended_instances == "omit":
            resolved = {a: ou for a, ou in resolved.items() if not org.is_suspended(a)}
        return resolved

    def _new_op(
        self,
        ss: StackSet,
        op_id: str,
        fp: str,
        action: str,
        keys: list[tuple[str, str, str]],  # (account, region, ou)
        prefs_raw: dict | None,
        regions: list[str],
        *,
        retain: bool | None = None,
        targets_echo: dict | None = None,
        auto: bool = False,
    ) -> Operation:
        prefs, echo, order = effective_preferences(prefs_raw, regions)
        plan: dict[str, list[str]] = {r: [] for r in order}
        ou_of: dict[tuple[str, str], str] = {}
        for account, region, ou in keys:
            plan.setdefault(region, []).append(account)
            ou_of[(account, region)] = ou
        results = [Result(a, r, ou_of[(a, r)]) for r in plan for a in plan[r]]
        plan = {r: accts for r, accts in plan.items() if accts}
        return Operation(
            id=op_id,
            action=action,
            fingerprint=fp,
            definition=ss.definition,
            prefs=prefs,
            prefs_echo=echo,
            plan=plan,
            results=results,
            retain_stacks=retain,
            targets_echo=targets_echo,
            auto=auto,
        )

    def _touch_instances(self, ss: StackSet, op: Operation, keys, *, create: bool, overrides: dict | None = None) -> None:
        for account, region, ou in keys:
            key = (account, region)
            inst = ss.instances.get(key)
            if inst is None:
                if not create:
                    continue
                inst = Instance(account=account, region=region, ou_id=ou)
                ss.add_instance(inst)
            else:
                inst.prev = (inst.status, inst.detailed, inst.reason)
                if create and ou:
                    inst.ou_id = ou
            if overrides is not None:
                inst.overrides = dict(overrides)
            inst.mark("OUTDATED", "PENDING")
            inst.last_op = op.id

    # ============================================================ stack sets

    def _CreateStackSet(self, p: dict, rctx: RequestCtx) -> dict:
        name = p["StackSetName"]
        if len(name) > 128 or not _NAME_RE.match(name):
            raise validation_error(
                f"1 validation error detected: Value '{name}' at 'stackSetName' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
            )
        # The same name may exist in another region, as on AWS.
        existing = self.sets.get((rctx.region, name))
        if existing is not None:
            token = p.get("ClientRequestToken")
            if token and existing.client_token == token:
                return {"StackSetId": existing.id}
            raise ApiError("NameAlreadyExistsException", f"StackSet {name} already exists")
        if p.get("StackId"):
            raise validation_error("Importing a stack (StackId) is not supported by the emulator")
        tpl = self._template(p)
        if tpl is None:
            raise validation_error("Either TemplateBody or TemplateURL must be specified.")
        model = p.get("PermissionModel") or SELF_MANAGED
        call_as = p.get("CallAs") or "SELF"
        auto = p.get("AutoDeployment")
        if model == SERVICE_MANAGED:
            self._require_trusted_access(model)
            if auto is None or auto.get("Enabled") is None:
                raise validation_error("AutoDeployment must be specified for stack sets with SERVICE_MANAGED permission model")
            if not auto.get("Enabled") and auto.get("RetainStacksOnAccountRemoval") is not None:
                raise validation_error("RetainStacksOnAccountRemoval can only be specified when AutoDeployment is enabled")
        else:
            if call_as != "SELF":
                raise validation_error("CallAs DELEGATED_ADMIN is only supported for SERVICE_MANAGED stack sets")
            if auto and auto.get("Enabled"):
                raise validation_error("AutoDeployment is only supported for stack sets with SERVICE_MANAGED permission model")
        tpl.check_capabilities(p.get("Capabilities"))
        values = tpl.resolve_parameters(p.get("Parameters"), None, allow_previous=False)
        tpl.check_values(values)
        ss_id = StackSet.new_id(name)
        ss = StackSet(
            name=name,
            id=ss_id,
            arn=f"arn:aws:cloudformation:{rctx.region}:{rctx.account_id}:stackset/{ss_id}",
            region=rctx.region,
            call_as=call_as,
            permission_model=model,
            definition=Definition(tpl, values, next(self._versions)),
            description=p.get("Description"),
            capabilities=list(p.get("Capabilities") or []),
            tags=list(p.get("Tags") or []),
            auto_deployment=(
                {"Enabled": bool(auto.get("Enabled")), "RetainStacksOnAccountRemoval": bool(auto.get("RetainStacksOnAccountRemoval", False))}
                if model == SERVICE_MANAGED
                else None
            ),
            managed_execution=bool((p.get("ManagedExecution") or {}).get("Active", False)),
            client_token=p.get("ClientRequestToken"),
        )
        if model == SELF_MANAGED:
            ss.admin_role_arn = p.get("AdministrationRoleARN") or (
                f"arn:aws:iam::{rctx.account_id}:role/AWSCloudFormationStackSetAdministrationRole"
            )
            ss.execution_role_name = p.get("ExecutionRoleName") or "AWSCloudFormationStackSetExecutionRole"
        self.sets[ss.key] = ss
        return {"StackSetId": ss.id}

    def _describe_set(self, ss: StackSet) -> dict:
        tpl = ss.definition.template
        no_echo = tpl.no_echo_keys
        out: dict[str, Any] = {
            "StackSetName": ss.name,
            "StackSetId": ss.id,
            "Description": ss.description,
            "Status": ss.status,
            "TemplateBody": tpl.body,
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": MASKED if k in no_echo else v}
                for k, v in ss.definition.params.items()
            ],
            "Capabilities": ss.capabilities or None,
            "Tags": ss.tags,
            "StackSetARN": ss.arn,
            "StackSetDriftDetectionDetails": {"DriftStatus": "NOT_CHECKED"},
            "PermissionModel": ss.permission_model,
            "ManagedExecution": {"Active": ss.managed_execution},
            "Regions": list(ss.regions),
        }
        if ss.permission_model == SERVICE_MANAGED:
            out["AutoDeployment"] = dict(ss.auto_deployment or {"Enabled": False})
            out["OrganizationalUnitIds"] = list(ss.ou_ids)
        else:
            out["AdministrationRoleARN"] = ss.admin_role_arn
            out["ExecutionRoleName"] = ss.execution_role_name
        return out

    def _DescribeStackSet(self, p: dict, rctx: RequestCtx) -> dict:
        return {"StackSet": self._describe_set(self._get(p, rctx))}

    def _ListStackSets(self, p: dict, rctx: RequestCtx) -> dict:
        call_as = p.get("CallAs") or "SELF"
        want = p.get("Status")
        rows: list[dict] = []
        for ss in sorted(self.sets.values(), key=lambda s: s.name):
            if ss.call_as != call_as or ss.region != rctx.region:
                continue
            rows.append(
                {
                    "StackSetName": ss.name,
                    "StackSetId": ss.id,
                    "Description": ss.description,
                    "Status": ss.status,
                    "AutoDeployment": dict(ss.auto_deployment) if ss.auto_deployment else None,
                    "PermissionModel": ss.permission_model,
                    "DriftStatus": "NOT_CHECKED",
                    "ManagedExecution": {"Active": ss.managed_execution},
                }
            )
        for d in self.deleted:
            if d["_call_as"] == call_as and d["_region"] == rctx.region:
                rows.append({k: v for k, v in d.items() if not k.startswith("_")})
        if want:
            rows = [r for r in rows if r["Status"] == want]
        start = _offset(p)
        size = _page_size(p)
        page = rows[start : start + size]
        return {"Summaries": page, "NextToken": _token(start + size) if start + size < len(rows) else None}

    def _UpdateStackSet(self, p: dict, rctx: RequestCtx) -> dict:
        ss = self._get(p, rctx)
        self._check_regions(p)
        self._fault_in_progress(ss)
        op_id, fp, existing = self._idempotent(ss, "UpdateStackSet", p)
        if existing:
            return {"OperationId": existing}
        self._require_trusted_access(ss.permission_model)
        if p.get("PermissionModel") and p["PermissionModel"] != ss.permission_model:
            raise validation_error("The permission model of a stack set cannot be changed")
        if p.get("UsePreviousTemplate"):
            if p.get("TemplateBody") is not None or p.get("TemplateURL") is not None:
                raise validation_error("UsePreviousTemplate cannot be combined with TemplateBody or TemplateURL")
            tpl = ss.definition.template
        else:
            tpl = self._template(p)
            if tpl is None:
                raise validation_error("Either TemplateBody, TemplateURL or UsePreviousTemplate must be specified.")
        tpl.check_capabilities(p.get("Capabilities"))
        values = tpl.resolve_parameters(p.get("Parameters"), ss.definition.params, allow_previous=True)
        tpl.check_values(values)
        auto = p.get("AutoDeployment")
        if auto is not None and ss.permission_model != SERVICE_MANAGED:
            raise validation_error("AutoDeployment is only supported for stack sets with SERVICE_MANAGED permission model")

        dt, regions = p.get("DeploymentTargets"), p.get("Regions")
        if dt is not None or regions is not None or p.get("Accounts"):
            if not regions or (dt is None and not p.get("Accounts")):
                raise validation_error("DeploymentTargets (or Accounts) and Regions must be specified together")
            accounts = self._resolve_targets(ss, p, for_create=False)
            scope = [k for k in ss.sorted_keys if k[1] in regions and k[0] in accounts]
            op_regions = list(regions)
        else:
            scope = list(ss.sorted_keys)
            op_regions = [r for r in ss.regions]
            for _, r in scope:
                if r not in op_regions:
                    op_regions.append(r)
        scope = [k for k in scope if ss.instances[k].status != "INOPERABLE"]
        keys = [(a, r, ss.instances[(a, r)].ou_id) for a, r in scope]
        op = self._new_op(
            ss, op_id, fp, "UPDATE", keys, p.get("OperationPreferences"), op_regions,
            targets_echo=dt,
        )
        self._check_in_progress(ss)

        # Accepted: apply the new definition and settings, then queue the update.
        ss.definition = Definition(tpl, values, next(self._versions))
        op.definition = ss.definition
        ss.capabilities = list(p.get("Capabilities") or [])  # each update states them anew, as on AWS
        if p.get("Tags") is not None:
            ss.tags = list(p["Tags"])
        if p.get("Description") is not None:
            ss.description = p["Description"]
        if auto is not None:
            cur = dict(ss.auto_deployment or {})
            if auto.get("Enabled") is not None:
                cur["Enabled"] = bool(auto["Enabled"])
            if auto.get("RetainStacksOnAccountRemoval") is not None:
                cur["RetainStacksOnAccountRemoval"] = bool(auto["RetainStacksOnAccountRemoval"])
            ss.auto_deployment = cur
        if p.get("ManagedExecution") is not None:
            ss.managed_execution = bool(p["ManagedExecution"].get("Active", False))
        self._touch_instances(ss, op, keys, create=False)
        self.ctx.runner.submit(ss, op)
        return {"OperationId": op.id}

    def _DeleteStackSet(self, p: dict, rctx: RequestCtx) -> dict:
        ss = self._get(p, rctx)
        self._fault_in_progress(ss)
        if ss.active_operation() is not None:
            raise ApiError("OperationInProgressException", f"Another Operation on StackSet {ss.arn} is in progress")
        if ss.instances:
            raise ApiError("StackSetNotEmptyException", f"StackSet {ss.name} is not empty")
        del self.sets[ss.key]
        self.deleted.append(
            {
                "StackSetName": ss.name,
                "StackSetId": ss.id,
                "Description": ss.description,
                "Status": "DELETED",
                "AutoDeployment": dict(ss.auto_deployment) if ss.auto_deployment else None,
                "PermissionModel": ss.permission_model,
                "DriftStatus": "NOT_CHECKED",
                "ManagedExecution": {"Active": ss.managed_execution},
                "_call_as": ss.call_as,
                "_region": ss.region,
            }
        )
        return {}

    # ======================================================= stack instances

    def _CreateStackInstances(self, p: dict, rctx: RequestCtx) -> dict:
        ss = self._get(p, rctx)
        self._check_regions(p)
        self._check_ou_count("CreateStackInstances", p)
        self._fault_in_progress(ss)
        op_id, fp, existing = self._idempotent(ss, "CreateStackInstances", p)
        if existing:
            return {"OperationId": existing}
        self._require_trusted_access(ss.permission_model)
        regions = p["Regions"]
        if not regions:
            raise validation_error("Regions must not be empty")
        accounts = self._resolve_targets(ss, p, for_create=True)
        overrides = None
        if p.get("ParameterOverrides") is not None:
            tpl = ss.definition.template
            overrides = {}
            for o in p["ParameterOverrides"]:
                key = o.get("ParameterKey")
                if key not in tpl.parameters:
                    raise validation_error(f"Parameters: [{key}] do not exist in the template")
                overrides[key] = ss.definition.params.get(key, "") if o.get("UsePreviousValue") else o.get("ParameterValue", "")
            merged = dict(ss.definition.params)
            merged.update(overrides)
            tpl.check_values(merged)
        keys = [(a, r, ou) for r in regions for a, ou in accounts.items()]
        op = self._new_op(
            ss, op_id, fp, "CREATE", keys, p.get("OperationPreferences"), list(regions),
            targets_echo=p.get("DeploymentTargets") or ({"Accounts": p["Accounts"]} if p.get("Accounts") else None),
        )
        self._check_in_progress(ss)
        if ss.permission_model == SERVICE_MANAGED:
            for ou in p["DeploymentTargets"]["OrganizationalUnitIds"]:
                if ou not in ss.ou_ids:
                    ss.ou_ids.append(ou)
        for r in regions:
            ss.uses_region(r)
        self._touch_instances(ss, op, keys, create=True, overrides=overrides)
        self.ctx.runner.submit(ss, op)
        return {"OperationId": op.id}

    def _DeleteStackInstances(self, p: dict, rctx: RequestCtx) -> dict:
        ss = self._get(p, rctx)
        self._check_regions(p)
        self._check_ou_count("DeleteStackInstances", p)
        self._fault_in_progress(ss)
        op_id, fp, existing = self._idempotent(ss, "DeleteStackInstances", p)
        if existing:
            return {"OperationId": existing}
        regions = p["Regions"]
        accounts = self._resolve_targets(ss, p, for_create=False)
        dt = p.get("DeploymentTargets") or {}
        filt = dt.get("AccountFilterType") or "NONE"
        scope_ous: set[str] = set()
        if ss.permission_model == SERVICE_MANAGED and filt == "NONE":
            for ou in dt.get("OrganizationalUnitIds") or []:
                scope_ous |= self.ctx.org.descendants(ou)
        chosen = [
            k
            for k in ss.sorted_keys
            if k[1] in regions and (k[0] in accounts or ss.instances[k].ou_id in scope_ous)
        ]
        keys = [(a, r, ss.instances[(a, r)].ou_id) for a, r in chosen]
        op = self._new_op(
            ss, op_id, fp, "DELETE", keys, p.get("OperationPreferences"), list(regions),
            retain=bool(p.get("RetainStacks")),
            targets_echo=p.get("DeploymentTargets") or ({"Accounts": p["Accounts"]} if p.get("Accounts") else None),
        )
        self._check_in_progress(ss)
        if ss.permission_model == SERVICE_MANAGED and filt == "NONE":
            op.forget_ous = list(dt.get("OrganizationalUnitIds") or [])
        self._touch_instances(ss, op, keys, create=False)
        self.ctx.runner.submit(ss, op)
        return {"OperationId": op.id}

    def _summary(self, ss: StackSet, inst: Instance, *, full: bool = False) -> dict:
        out: dict[str, Any] = {
            "StackSetId": ss.id,
            "Region": inst.region,
            "Account": inst.account,
            "StackId": inst.stack_id,
            "Status": inst.status,
            "StatusReason": inst.reason,
            "StackInstanceStatus": {"DetailedStatus": inst.detailed},
            "OrganizationalUnitId": inst.ou_id if ss.permission_model == SERVICE_MANAGED else None,
            "DriftStatus": "NOT_CHECKED",
            "LastOperationId": inst.last_op,
        }
        if full:
            no_echo = ss.definition.template.no_echo_keys
            out["ParameterOverrides"] = [
                {"ParameterKey": k, "ParameterValue": MASKED if k in no_echo else v} for k, v in inst.overrides.items()
            ]
        return out

    def _ListStackInstances(self, p: dict, rctx: RequestCtx) -> dict:
        ss = self._get(p, rctx)
        filters = p.get("Filters") or []
        want: dict[str, str] = {}
        for f in filters:
            name, value = f.get("Name"), f.get("Values")
            if name is None or value is None:
                raise validation_error("Filters must have a Name and Values")
            if name == "DETAILED_STATUS" and value not in _DETAILED:
                raise validation_error(
                    f"1 validation error detected: Value '{value}' at 'filters.member.values' failed to satisfy constraint: "
                    f"Member must satisfy enum value set: [{', '.join(sorted(_DETAILED))}]"
                )
            want[name] = value
        acct, region = p.get("StackInstanceAccount"), p.get("StackInstanceRegion")
        after = _untoken(p.get("NextToken"))
        if after is not None and not (isinstance(after, list) and len(after) == 2 and all(isinstance(x, str) for x in after)):
            raise validation_error("Invalid NextToken")
        start = bisect.bisect_right(ss.sorted_keys, tuple(after)) if after else 0
        size = _page_size(p)
        page: list[dict] = []
        last = None
        keys = ss.sorted_keys
        i = start
        while i < len(keys) and len(page) < size:
            key = keys[i]
            i += 1
            inst = ss.instances[key]
            if acct and inst.account != acct:
                continue
            if region and inst.region != region:
                continue
            if "DETAILED_STATUS" in want and inst.detailed != want["DETAILED_STATUS"]:
                continue
            if "LAST_OPERATION_ID" in want and inst.last_op != want["LAST_OPERATION_ID"]:
                continue
            if "DRIFT_STATUS" in want and want["DRIFT_STATUS"] != "NOT_CHECKED":
                continue
            page.append(self._summary(ss, inst))
            last = key
        more = len(page) == size and i < len(keys)
        return {"Summaries": page, "NextToken": _token(list(last)) if more and last else None}

    def _DescribeStackInstance(self, p: dict, rctx: RequestCtx) -> dict:
        ss = self._get(p, rctx)
        key = (p["StackInstanceAccount"], p["StackInstanceRegion"])
        inst = ss.instances.get(key)
        if inst is None:
            raise ApiError(
                "StackInstanceNotFoundException",
                f"Stack instance in account {key[0]} and Region {key[1]} not found for StackSet {ss.name}",
            )
        return {"StackInstance": self._summary(ss, inst, full=True)}

    # ============================================================ operations

    def _op(self, ss: StackSet, op_id: str) -> Operation:
        op = ss.operations.get(op_id)
        if op is None:
            raise ApiError("OperationNotFoundException", f"Operation {op_id} not found for StackSet {ss.name}")
        return op

    def _DescribeStackSetOperation(self, p: dict, rctx: RequestCtx) -> dict:
        ss = self._get(p, rctx)
        op = self._op(ss, p["OperationId"])
        out = {
            "OperationId": op.id,
            "StackSetId": ss.id,
            "Action": op.action,
            "Status": op.status,
            "OperationPreferences": op.prefs_echo,
            "RetainStacks": op.retain_stacks if op.action == "DELETE" else None,
            "CreationTimestamp": op.created,
            "EndTimestamp": op.ended,
            "DeploymentTargets": op.targets_echo,
            "StatusReason": op.reason,
            "StatusDetails": {"FailedStackInstancesCount": op.failed, "TotalStackInstancesCount": len(op.results)},
        }
        if ss.permission_model == SELF_MANAGED:
            out["AdministrationRoleARN"] = ss.admin_role_arn
            out["ExecutionRoleName"] = ss.execution_role_name
        return {"StackSetOperation": out}

    def _ListStackSetOperations(self, p: dict, rctx: RequestCtx) -> dict:
        ss = self._get(p, rctx)
        ops = sorted(ss.operations.values(), key=lambda o: o.created, reverse=True)
        start = _offset(p)
        size = _page_size(p)
        page = [
            {
                "OperationId": op.id,
                "Action": op.action,
                "Status": op.status,
                "CreationTimestamp": op.created,
                "EndTimestamp": op.ended,
                "StatusReason": op.reason,
                "StatusDetails": {"FailedStackInstancesCount": op.failed},
                "OperationPreferences": op.prefs_echo,
            }
            for op in ops[start : start + size]
        ]
        return {"Summaries": page, "NextToken": _token(start + size) if start + size < len(ops) else None}

    def _ListStackSetOperationResults(self, p: dict, rctx: RequestCtx) -> dict:
        ss = self._get(p, rctx)
        op = self._op(ss, p["OperationId"])
        want = None
        for f in p.get("Filters") or []:
            if f.get("Name") == "OPERATION_RESULT_STATUS":
                want = f.get("Values")
                if want not in _RESULT_STATUSES:
                    raise validation_error(
                        f"1 validation error detected: Value '{want}' at 'filters.member.values' failed to satisfy constraint: "
                        f"Member must satisfy enum value set: [{', '.join(sorted(_RESULT_STATUSES))}]"
                    )
        rows = op.results if want is None else [r for r in op.results if r.status == want]
        start = _offset(p)
        size = _page_size(p)
        page = [
            {
                "Account": r.account,
                "Region": r.region,
                "Status": r.status,
                "StatusReason": r.reason,
                "AccountGateResult": {
                    "Status": "SKIPPED",
                    "StatusReason": f"Function not found: arn:aws:lambda:{r.region}:{r.account}:function:AWSCloudFormationStackSetAccountGate",
                }
                if r.status not in ("PENDING",)
                else None,
                "OrganizationalUnitId": r.ou_id or None,
            }
            for r in rows[start : start + size]
        ]
        return {"Summaries": page, "NextToken": _token(start + size) if start + size < len(rows) else None}

    def _StopStackSetOperation(self, p: dict, rctx: RequestCtx) -> dict:
        ss = self._get(p, rctx)
        op = self._op(ss, p["OperationId"])
        if op.status == "QUEUED":
            op.stop_requested = True
            if ss.queue and ss.queue[0] is not op:
                ss.queue.remove(op)
                self.ctx.runner.cancel_rest(ss, op, "Cancelled since the operation was stopped")
                op.status, op.ended = "STOPPED", time.time()
                self.after_operation(ss, op)
        elif op.status in ("RUNNING", "STOPPING"):
            op.stop_requested = True
            op.status = "STOPPING"
        else:
            raise ApiError("InvalidOperationException", f"Operation {op.id} is {op.status} and cannot be stopped")
        return {}

    def _ListStackSetAutoDeploymentTargets(self, p: dict, rctx: RequestCtx) -> dict:
        ss = self._get(p, rctx)
        rows = [{"OrganizationalUnitId": ou, "Regions": list(ss.regions)} for ou in ss.ou_ids]
        if not (ss.auto_deployment or {}).get("Enabled"):
            rows = []
        start = _offset(p)
        size = _page_size(p)
        return {"Summaries": rows[start : start + size], "NextToken": _token(start + size) if start + size < len(rows) else None}

    # =================================================== organizations access

    def _DescribeOrganizationsAccess(self, p: dict, rctx: RequestCtx) -> dict:
        return {"Status": "ENABLED" if self.ctx.org.trusted_access() else "DISABLED"}

    def _ActivateOrganizationsAccess(self, p: dict, rctx: RequestCtx) -> dict:
        self.ctx.org.set_trusted_access(True)
        return {}

    def _DeactivateOrganizationsAccess(self, p: dict, rctx: RequestCtx) -> dict:
        self.ctx.org.set_trusted_access(False)
        return {}

    # ======================================================= auto-deployment

    def on_org_changed(self, before: dict[str, tuple[str, str]], after: dict[str, tuple[str, str]]) -> None:
        """Start CREATE operations for accounts that joined an auto-deployed
        OU and DELETE operations for accounts that left one (lock held)."""
        changed = [a for a in set(before) | set(after) if before.get(a) != after.get(a)]
        if not changed:
            return
        org = self.ctx.org
        for ss in list(self.sets.values()):
            auto = ss.auto_deployment or {}
            if ss.permission_model != SERVICE_MANAGED or not auto.get("Enabled") or not ss.ou_ids:
                continue
            scope: dict[str, str] = {}  # OU in scope -> deepest targeted OU covering it
            for target in sorted(ss.ou_ids, key=lambda o: len(org.ancestors(o)) if org.ou_exists(o) else 0):
                if org.ou_exists(target):
                    for ou in org.descendants(target):
                        scope[ou] = target
            joined: list[tuple[str, str]] = []
            left: list[str] = []
            for account in sorted(changed):
                if account == org.management_account_id:
                    continue
                was = before.get(account)
                now = after.get(account)
                was_in = was is not None and was[0] in scope
                now_in = now is not None and now[0] in scope
                if now_in and not was_in:
                    if now[1] == "ACTIVE" or self.ctx.settings.suspended_instances == "skipped":
                        joined.append((account, scope[now[0]]))
                elif was_in and not now_in:
                    left.append(account)
                elif now_in and was_in:
                    for r in ss.regions:
                        inst = ss.instances.get((account, r))
                        if inst is not None:
                            inst.ou_id = scope[now[0]]
            if joined and ss.regions:
                keys = [(a, r, ou) for r in ss.regions for a, ou in joined if self._needs_instance(ss, a, r)]
                if keys:
                    op = self._new_op(ss, str(uuid.uuid4()), "", "CREATE", keys, None, list(ss.regions), auto=True)
                    self._touch_instances(ss, op, keys, create=True)
                    self.ctx.runner.submit(ss, op)
            if left:
                keys = [(a, r, ss.instances[(a, r)].ou_id) for a in left for r in ss.regions if (a, r) in ss.instances]
                if keys:
                    op = self._new_op(
                        ss, str(uuid.uuid4()), "", "DELETE", keys, None, list(ss.regions),
                        retain=bool(auto.get("RetainStacksOnAccountRemoval")), auto=True,
                    )
                    self._touch_instances(ss, op, keys, create=False)
                    self.ctx.runner.submit(ss, op)

    def after_operation(self, ss: StackSet, op: Operation) -> None:
        """Bookkeeping once an operation has finished (lock held): a DELETE
        by OU drops the OU from OrganizationalUnitIds when no instance
        deployed through it (or its children) is left; Regions keep only
        those still in use."""
        org = self.ctx.org
        for ou in op.forget_ous:
            scope = org.descendants(ou) if org.ou_exists(ou) else {ou}
            if not any(inst.ou_id in scope for inst in ss.instances.values()):
                ss.ou_ids = [o for o in ss.ou_ids if o != ou]
        ss.prune_regions()

    @staticmethod
    def _needs_instance(ss: StackSet, account: str, region: str) -> bool:
        inst = ss.instances.get((account, region))
        if inst is None:
            return True
        if inst.deployed is not None:
            return False
        op = ss.operations.get(inst.last_op or "")
        return op is None or not op.active

    # ============================================================ out of band

    def remove_instance_out_of_band(
        self,
        name: str,
        account: str,
        region: str,
        *,
        run_custom_resource: bool,
        admin_region: str | None = None,
    ) -> dict:
        """Admin helper: the stack instance vanishes as if someone deleted it
        (its custom resource's Delete runs unless told not to). ``region`` is
        the instance's region; the set is found by ``admin_find``."""
        with self.ctx.lock:
            ss = self.admin_find(name, admin_region)
            inst = ss.instances.get((account, region))
            if inst is None:
                raise KeyError(f"no stack instance {account}/{region} in {name!r}")
            props = (inst.deployed or {}).get("props")
            ss.remove_instance((account, region))
        reason = None
        if run_custom_resource and props:
            reason = self.ctx.datadog.delete(props)
        return {"removed": True, "custom_resource": "skipped" if not (run_custom_resource and props) else ("failed" if reason else "deleted"), "reason": reason}

    def dump(self, admin_region: str | None = None) -> dict:
        """Admin view of every stack set (debugging and test assertions),
        or of those of one administration region."""
        with self.ctx.lock:
            out = []
            for ss in self.sets.values():
                if admin_region not in (None, ss.region):
                    continue
                counts: dict[str, int] = {}
                for inst in ss.instances.values():
                    counts[inst.detailed] = counts.get(inst.detailed, 0) + 1
                out.append(
                    {
                        "name": ss.name,
                        "id": ss.id,
                        "region": ss.region,
                        "arn": ss.arn,
                        "status": ss.status,
                        "call_as": ss.call_as,
                        "permission_model": ss.permission_model,
                        "auto_deployment": ss.auto_deployment,
                        "managed_execution": ss.managed_execution,
                        "organizational_unit_ids": list(ss.ou_ids),
                        "regions": list(ss.regions),
                        "instances": len(ss.instances),
                        "instances_by_detailed_status": counts,
                        "operations": [
                            {"id": op.id, "action": op.action, "status": op.status, "auto": op.auto}
                            for op in ss.operations.values()
                        ],
                    }
                )
            deleted = [d["StackSetName"] for d in self.deleted if admin_region in (None, d["_region"])]
            return {"stack_sets": out, "deleted": deleted}
