"""Admin API under ``/_emulator/`` (JSON, no auth): organization changes
that trigger auto-deployment, fault injection, settings, the call log, and
out-of-band stack-instance removal for drift tests. See README for routes.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable
from urllib.parse import parse_qs, unquote

from middleware import _read_body, _status_line
from regions import is_known


class AdminError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _admin_region(source: dict) -> str | None:
    """Optional ``admin_region`` (a StackSet's administration region, as
    opposed to an instance's ``region``); absent = the only set of that
    name, else the one in us-east-1 (StackSets.admin_find)."""
    region = source.get("admin_region")
    if region is not None and not (isinstance(region, str) and is_known(region)):
        raise AdminError(400, f"'admin_region' must be a region of the aws partition, not {region!r}")
    return region


def _need(body: dict, key: str, kind: type = str) -> Any:
    value = body.get(key)
    if not isinstance(value, kind) or (kind is str and not value):
        raise AdminError(400, f"{key!r} is required ({kind.__name__})")
    return value


class AdminApp:
    def __init__(self, ctx, base_url: Callable[[], str]):
        self.ctx = ctx
        self.base_url = base_url
        self.routes: list[tuple[str, re.Pattern, Callable]] = [
            ("GET", re.compile(r"^health$"), self.health),
            ("GET", re.compile(r"^organization$"), self.organization),
            ("POST", re.compile(r"^ous$"), self.create_ou),
            ("POST", re.compile(r"^accounts$"), self.create_account),
            ("POST", re.compile(r"^accounts/(?P<id>[0-9]{12})/move$"), self.move_account),
            ("POST", re.compile(r"^accounts/(?P<id>[0-9]{12})/suspend$"), self.suspend_account),
            ("GET", re.compile(r"^faults$"), self.list_faults),
            ("DELETE", re.compile(r"^faults$"), self.clear_faults),
            ("POST", re.compile(r"^faults/instance-failures$"), self.fault_instances),
            ("POST", re.compile(r"^faults/throttle$"), self.fault_throttle),
            ("POST", re.compile(r"^faults/operation-in-progress$"), self.fault_in_progress),
            ("GET", re.compile(r"^settings$"), self.get_settings),
            ("POST", re.compile(r"^settings$"), self.set_settings),
            ("GET", re.compile(r"^calls$"), self.get_calls),
            ("DELETE", re.compile(r"^calls$"), self.clear_calls),
            ("GET", re.compile(r"^stacksets$"), self.stacksets),
            (
                "DELETE",
                re.compile(r"^stacksets/(?P<name>[^/]+)/instances/(?P<account>[0-9]{12})/(?P<region>[a-z0-9-]+)$"),
                self.remove_instance,
            ),
            ("GET", re.compile(r"^stacks$"), self.stacks),
            ("POST", re.compile(r"^stacks/(?P<name>[^/]+)/parameters$"), self.update_stack),
            ("DELETE", re.compile(r"^stacks/(?P<name>[^/]+)$"), self.delete_stack),
        ]

    def __call__(self, environ: dict, start_response: Callable):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = unquote(environ.get("PATH_INFO", ""))[len("/_emulator") :].strip("/")
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        status, payload = 404, {"error": f"no admin route {method} /_emulator/{path}"}
        allowed = False
        for m, rx, fn in self.routes:
            match = rx.match(path)
            if not match:
                continue
            allowed = True
            if m != method:
                continue
            try:
                raw = _read_body(environ)
                body = json.loads(raw) if raw.strip() else {}
                if not isinstance(body, dict):
                    raise AdminError(400, "the request body must be a JSON object")
                status, payload = 200, fn(body=body, query=query, **match.groupdict())
            except json.JSONDecodeError as exc:
                status, payload = 400, {"error": f"invalid JSON: {exc}"}
            except AdminError as exc:
                status, payload = exc.status, {"error": exc.message}
            except KeyError as exc:
                status, payload = 404, {"error": str(exc.args[0]) if exc.args else "not found"}
            except ValueError as exc:
                status, payload = 400, {"error": str(exc)}
            break
        else:
            if allowed:
                status, payload = 405, {"error": f"method {method} not allowed on /_emulator/{path}"}
        data = json.dumps(payload, indent=None).encode("utf-8")
        start_response(_status_line(status), [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    # ---------------------------------------------------------------- routes

    def health(self, **_):
        return {
            "status": "ok",
            "endpoint": self.base_url(),
            "instance_seconds": self.ctx.settings.instance_seconds,
            "suspended_instances": self.ctx.settings.suspended_instances,
            "template_source": self.ctx.templates.source,
        }

    def organization(self, **_):
        return self.ctx.org.describe()

    def _ou_from(self, body: dict, id_key: str, path_key: str) -> str:
        org = self.ctx.org
        if body.get(id_key):
            if not org.ou_exists(body[id_key]):
                raise AdminError(404, f"no OU {body[id_key]!r}")
            return body[id_key]
        if path_key in body:
            try:
                return org.ou_by_path(str(body[path_key]))
            except KeyError as exc:
                raise AdminError(404, str(exc.args[0])) from None
        raise AdminError(400, f"{id_key!r} or {path_key!r} is required")

    def create_ou(self, body, **_):
        name = _need(body, "name")
        parent = self._ou_from(body, "parent_id", "parent_path") if ("parent_id" in body or "parent_path" in body) else self.ctx.org.root_id
        ou_id = self.ctx.org.create_ou(name, parent)
        return {"id": ou_id, "path": self.ctx.org.ou_path(ou_id), "env": "SANDBOX_OU_" + _env(self.ctx.org.ou_path(ou_id))}

    def create_account(self, body, **_):
        name = _need(body, "name")
        parent = self._ou_from(body, "ou_id", "ou_path")
        count = body.get("count", 1)
        if not isinstance(count, int) or count < 1 or count > 10_000:
            raise AdminError(400, "'count' must be an integer between 1 and 10000")
        if count > 1 and body.get("id"):
            raise AdminError(400, "'id' cannot be combined with 'count'")
        ctx = self.ctx
        with ctx.lock:
            before = ctx.org.snapshot()
            ids = []
            for i in range(count):
                acct_name = name if count == 1 else f"{name}-{i + 1}"
                email = body.get("email") if count == 1 else None
                ids.append(ctx.org.create_account(acct_name, parent, email=email, account_id=body.get("id")))
            ctx.org_changed(before)
        return {"id": ids[0], "ids": ids, "parent_id": parent, "status": "ACTIVE"}

    def move_account(self, body, id, **_):
        target = self._ou_from(body, "ou_id", "ou_path")
        ctx = self.ctx
        with ctx.lock:
            if ctx.org.account(id) is None or id == ctx.org.management_account_id:
                raise AdminError(404, f"no member account {id}")
            before = ctx.org.snapshot()
            ctx.org.move_account(id, target)
            ctx.org_changed(before)
        return {"id": id, "parent_id": target}

    def suspend_account(self, id, **_):
        ctx = self.ctx
        with ctx.lock:
            if ctx.org.account(id) is None or id == ctx.org.management_account_id:
                raise AdminError(404, f"no member account {id}")
            before = ctx.org.snapshot()
            ctx.org.suspend(id)
            ctx.org_changed(before)
        return {"id": id, "status": "SUSPENDED"}

    def list_faults(self, **_):
        return self.ctx.faults.describe()

    def clear_faults(self, **_):
        self.ctx.faults.clear()
        return {"cleared": True}

    def fault_instances(self, body, **_):
        accounts = body.get("accounts")
        if not isinstance(accounts, list) or not accounts or not all(isinstance(a, str) for a in accounts):
            raise AdminError(400, "'accounts' must be a non-empty list of account ids")
        reason = body.get("reason") or "Injected failure"
        count = _count(body)
        region = body.get("region")
        self.ctx.faults.add_instance_failures(accounts, str(reason), count, region)
        return self.ctx.faults.describe()

    def fault_throttle(self, body, **_):
        self.ctx.faults.add_throttle(_need(body, "action"), _count(body))
        return self.ctx.faults.describe()

    def fault_in_progress(self, body, **_):
        self.ctx.faults.add_in_progress(_need(body, "stack_set"), _count(body), _admin_region(body))
        return self.ctx.faults.describe()

    def get_settings(self, **_):
        s = self.ctx.settings
        return {"instance_seconds": s.instance_seconds, "instance_jitter_seconds": s.instance_jitter_seconds, "suspended_instances": s.suspended_instances}

    def set_settings(self, body, **_):
        s = self.ctx.settings
        if "instance_seconds" in body:
            v = body["instance_seconds"]
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise AdminError(400, "'instance_seconds' must be a number >= 0")
            s.instance_seconds = float(v)
        if "instance_jitter_seconds" in body:
            v = body["instance_jitter_seconds"]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise AdminError(400, "'instance_jitter_seconds' must be a number >= 0")
            s.instance_jitter_seconds = float(v)
        if "suspended_instances" in body:
            if body["suspended_instances"] not in ("omit", "skipped"):
                raise AdminError(400, "'suspended_instances' must be 'omit' or 'skipped'")
            s.suspended_instances = body["suspended_instances"]
        return self.get_settings()

    def get_calls(self, query, **_):
        out = self.ctx.calls.describe()
        if query.get("action"):
            out["calls"] = [c for c in out["calls"] if c["action"] == query["action"]]
        return out

    def clear_calls(self, **_):
        self.ctx.calls.clear()
        return {"cleared": True}

    def stacksets(self, query, **_):
        return self.ctx.stacksets.dump(_admin_region(query))

    def remove_instance(self, name, account, region, query, **_):
        run_cr = query.get("custom_resource", "true").lower() not in ("false", "0", "no")
        return self.ctx.stacksets.remove_instance_out_of_band(
            name,
            account,
            region,
            run_custom_resource=run_cr,
            admin_region=_admin_region(query),
        )

    # Plain stacks (the management account's): drift made by hand.

    def stacks(self, **_):
        return self.ctx.stacks.dump()

    def update_stack(self, name, body, **_):
        params = body.get("parameters")
        if not isinstance(params, dict) or not params or not all(isinstance(v, str) for v in params.values()):
            raise AdminError(400, "'parameters' must be a non-empty object of strings")
        return self.ctx.stacks.update_out_of_band(name, _region(body), params)

    def delete_stack(self, name, query, **_):
        run_cr = query.get("custom_resource", "true").lower() not in ("false", "0", "no")
        return self.ctx.stacks.delete_out_of_band(name, _region(query), run_custom_resource=run_cr)


def _count(body: dict) -> int:
    count = body.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise AdminError(400, "'count' must be a positive integer")
    return count


def _env(path: str) -> str:
    from org import env_name

    return env_name(path)


def _region(source: dict) -> str | None:
    region = source.get("region")
    if region is not None and not (isinstance(region, str) and is_known(region)):
        raise AdminError(400, f"'region' must be a region of the aws partition, not {region!r}")
    return region
