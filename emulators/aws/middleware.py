"""The WSGI application in front of moto: routes ``/_emulator/`` to the
admin API, answers the StackSet actions of CloudFormation itself
(stacksets.py) and the stack actions of the management account's own stack
(stacks.py), injects throttling faults, logs calls, and tells the
organization model (and so auto-deployment) about Organizations calls that
change accounts. Everything else is moto's.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Iterable

from query_protocol import (
    ApiError,
    decode_input,
    encode_error,
    encode_response,
    new_request_id,
    parse_form,
    service_model,
    validate_input,
)
from regions import bad_scope, is_known
from stacks import ACTIONS as STACK_ACTIONS
from stacksets import ACTIONS, MUTATING, UNSUPPORTED, RequestCtx

log = logging.getLogger("aws-emulator.http")

# Organizations actions after which account membership may have changed.
ORG_MUTATING = {
    "CreateAccount",
    "CreateGovCloudAccount",
    "MoveAccount",
    "CloseAccount",
    "RemoveAccountFromOrganization",
    "DeleteOrganizationalUnit",
    "CreateOrganizationalUnit",
    "UpdateOrganizationalUnit",
    "EnableAWSServiceAccess",
    "DisableAWSServiceAccess",
}


def _status_line(code: int) -> str:
    from http import HTTPStatus

    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Error"


def signing_scope(environ: dict) -> tuple[str | None, str]:
    """(service, region) from a SigV4 Authorization header."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
        _, _, region, service, _ = scope.split("/")
        return service.lower(), region
    except (IndexError, ValueError):
        return None, "us-east-1"


def _read_body(environ: dict) -> bytes:
    import io

    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


class EmulatorApp:
    def __init__(self, ctx, moto_app: Callable, admin_app: Callable):
        self.ctx = ctx
        self.moto_app = moto_app
        self.admin_app = admin_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/_emulator" or path.startswith("/_emulator/"):
            return self.admin_app(environ, start_response)
        service, region = signing_scope(environ)
        if service == "cloudformation":
            body = _read_body(environ)
            params = parse_form(body, environ.get("QUERY_STRING", ""))
            action = params.get("Action", "")
            if not is_known(region):
                # Ours would key a stack set by a region AWS has not got, and
                # moto's stack actions crash (KeyError, 500) on one.
                return self._xml_error(start_response, bad_scope(region), "cloudformation", action or "?", {})
            if action in ACTIONS or action in UNSUPPORTED or action in STACK_ACTIONS:
                return self._cloudformation(action, params, region, start_response)
            return self._passthrough(environ, start_response, "cloudformation", action or "?")
        if service == "organizations":
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            action = target.rsplit(".", 1)[-1] if target else "?"
            if self.ctx.faults.take_throttle(action):
                return self._json_throttle(start_response, "organizations", action)
            if action in ORG_MUTATING:
                with self.ctx.lock:
                    before = self.ctx.org.snapshot()
                    out = self._passthrough(environ, start_response, service, action, buffer=True)
                    self.ctx.org_changed(before)
                return out
            return self._passthrough(environ, start_response, service, action)
        action = "?"
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            action = parse_form(_read_body(environ), environ.get("QUERY_STRING", "")).get("Action", "?")
        elif environ.get("HTTP_X_AMZ_TARGET"):
            action = environ["HTTP_X_AMZ_TARGET"].rsplit(".", 1)[-1]
        else:
            action = f"{environ.get('REQUEST_METHOD', '?')} {path}"
        svc = service or "s3"
        if action and self.ctx.faults.take_throttle(action):
            return self._xml_error(start_response, ApiError("Throttling", "Rate exceeded", 400), svc, action, {})
        return self._passthrough(environ, start_response, svc, action)

    # ------------------------------------------------------- CloudFormation

    def _cloudformation(self, action: str, flat: dict[str, str], region: str, start_response) -> Iterable[bytes]:
        request_id = new_request_id()
        params: dict[str, Any] = {}
        try:
            if self.ctx.faults.take_throttle(action):
                raise ApiError("Throttling", "Rate exceeded", 400)
            op_model = service_model("cloudformation").operation_model(action)
            params = decode_input(op_model, flat)
            validate_input(op_model, params)
            rctx = RequestCtx(account_id=self.ctx.org.management_account_id, region=region)
            handler = self.ctx.stacks if action in STACK_ACTIONS else self.ctx.stacksets
            result = handler.handle(action, params, rctx)
            body = encode_response("cloudformation", action, result, request_id)
            status = 200
            self._record(action, params, status, None, result, region)
        except ApiError as err:
            body = encode_error(err, request_id)
            status = err.status
            self._record(action, params or _ids_only(flat), status, err.code, None, region)
        except Exception:  # noqa: BLE001
            log.exception("internal error answering %s", action)
            err = ApiError("InternalFailure", "The emulator failed to process the request", 500, sender=False)
            body = encode_error(err, request_id)
            status = 500
            self._record(action, params or _ids_only(flat), status, err.code, None, region)
        start_response(
            _status_line(status),
            [
                ("Content-Type", "text/xml"),
                ("Content-Length", str(len(body))),
                ("x-amzn-RequestId", request_id),
            ],
        )
        return [body]

    def _record(
        self, action: str, params: dict, status: int, error: str | None, result: dict | None, region: str
    ) -> None:
        op_id = params.get("OperationId")
        if op_id is None and result and action in MUTATING:
            op_id = result.get("OperationId")
        self.ctx.calls.record(
            service="cloudformation",
            action=action,
            status=status,
            error=error,
            call_as=params.get("CallAs") or ("SELF" if "StackSetName" in params or action.endswith("StackSets") else None),
            stack_set=params.get("StackSetName"),
            operation_id=op_id,
            region=region,  # a stack set is only reachable from its administration region
        )

    # -------------------------------------------------------------- generic

    def _passthrough(self, environ, start_response, service: str, action: str, *, buffer: bool = False):
        seen: dict[str, Any] = {}

        def sr(status, headers, exc_info=None):
            seen["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        out = self.moto_app(environ, sr)
        if buffer:
            data = b"".join(out)
            if hasattr(out, "close"):
                out.close()
            out = [data]
        self.ctx.calls.record(service=service, action=action, status=seen.get("status", 0))
        return out

    def _json_throttle(self, start_response, service: str, action: str):
        body = json.dumps({"__type": "TooManyRequestsException", "Message": "Rate exceeded"}).encode()
        start_response(
            "400 Bad Request",
            [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("Content-Length", str(len(body))),
                ("x-amzn-RequestId", new_request_id()),
            ],
        )
        self.ctx.calls.record(service=service, action=action, status=400, error="TooManyRequestsException")
        return [body]

    def _xml_error(self, start_response, err: ApiError, service: str, action: str, params: dict):
        request_id = new_request_id()
        body = encode_error(err, request_id)
        start_response(
            _status_line(err.status),
            [("Content-Type", "text/xml"), ("Content-Length", str(len(body))), ("x-amzn-RequestId", request_id)],
        )
        self.ctx.calls.record(service=service, action=action, status=err.status, error=err.code)
        return [body]


def _ids_only(flat: dict[str, str]) -> dict[str, str]:
    """Identifying fields of a request that failed before decoding."""
    return {k: flat[k] for k in ("StackSetName", "OperationId", "CallAs") if k in flat}
