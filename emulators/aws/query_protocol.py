"""AWS query protocol (CloudFormation flavour): request decoding, input
validation and XML encoding, all driven by botocore's service model.

Owns the wire format only: it knows nothing about StackSets. Using the model
(instead of hand-written element names) guarantees that every element name,
list wrapper (``<member>``) and scalar format matches what the AWS SDKs parse.
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import botocore.session

_MODELS: dict[str, Any] = {}


def service_model(service: str):
    """The botocore ServiceModel for ``service`` (cached)."""
    model = _MODELS.get(service)
    if model is None:
        model = botocore.session.get_session().get_service_model(service)
        _MODELS[service] = model
    return model


class ApiError(Exception):
    """An error answered to the client as ``<ErrorResponse>``.

    ``status`` defaults to the HTTP status botocore's model gives the code
    (e.g. 404 for StackSetNotFoundException, 409 for
    OperationInProgressException); plain ``ValidationError`` is 400.
    """

    def __init__(self, code: str, message: str, status: int | None = None, sender: bool = True):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else _status_for(code)
        self.sender = sender


_STATUS_CACHE: dict[str, int] = {}


def _status_for(code: str) -> int:
    if not _STATUS_CACHE:
        model = service_model("cloudformation")
        for name in model.shape_names:
            shape = model.shape_for(name)
            err = shape.metadata.get("error")
            if shape.metadata.get("exception") and err:
                _STATUS_CACHE[err.get("code", name)] = int(err.get("httpStatusCode", 400))
    return _STATUS_CACHE.get(code, 400)


def validation_error(message: str) -> ApiError:
    return ApiError("ValidationError", message, 400)


# ----------------------------------------------------------------- decoding


def parse_form(body: bytes, query_string: str = "") -> dict[str, str]:
    """Flat ``key -> value`` from the query string and a form-encoded body."""
    params: dict[str, str] = {}
    for source in (query_string, body.decode("utf-8", "replace") if body else ""):
        if source:
            for key, value in parse_qsl(source, keep_blank_values=True):
                params[key] = value
    return params


def decode_input(op_model, flat: dict[str, str]) -> dict[str, Any]:
    """Decode flat query parameters into a nested dict following the input
    shape (lists from ``X.member.N``, typed scalars). Unknown keys are ignored,
    as AWS does."""
    shape = op_model.input_shape
    if shape is None:
        return {}
    return _decode_struct(shape, "", flat) or {}


def _decode(shape, prefix: str, flat: dict[str, str]):
    kind = shape.type_name
    if kind == "structure":
        return _decode_struct(shape, prefix + ".", flat)
    if kind == "list":
        return _decode_list(shape, prefix, flat)
    if kind == "map":
        out = {}
        i = 1
        while f"{prefix}.entry.{i}.key" in flat:
            key = flat[f"{prefix}.entry.{i}.key"]
            out[key] = _decode(shape.value, f"{prefix}.entry.{i}.value", flat)
            i += 1
        return out if out else None
    if prefix not in flat:
        return None
    return _scalar(shape, flat[prefix], prefix)


def _decode_struct(shape, prefix: str, flat: dict[str, str]):
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        wire = member.serialization.get("name", name)
        value = _decode(member, prefix + wire, flat)
        if value is not None:
            out[name] = value
    if not out and prefix and not any(k.startswith(prefix) for k in flat):
        return None
    return out


def _decode_list(shape, prefix: str, flat: dict[str, str]):
    # An empty list is sent as "Name=" (e.g. Tags= to remove every tag).
    if flat.get(prefix) == "":
        return []
    flattened = shape.serialization.get("flattened")
    base = prefix if flattened else f"{prefix}.member"
    items = []
    i = 1
    while True:
        item_prefix = f"{base}.{i}"
        if shape.member.type_name in ("structure", "list", "map"):
            if not any(k == item_prefix or k.startswith(item_prefix + ".") for k in flat):
                break
            item = _decode(shape.member, item_prefix, flat)
            items.append(item if item is not None else {})
        else:
            if item_prefix not in flat:
                break
            items.append(_scalar(shape.member, flat[item_prefix], item_prefix))
        i += 1
    return items if items else None


def _scalar(shape, raw: str, where: str):
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(raw)
        if kind in ("float", "double"):
            return float(raw)
    except ValueError:
        raise validation_error(f"Invalid value '{raw}' for {where}: expected {kind}") from None
    if kind == "boolean":
        low = raw.lower()
        if low not in ("true", "false"):
            raise validation_error(f"Invalid value '{raw}' for {where}: expected boolean")
        return low == "true"
    return raw


# --------------------------------------------------------------- validation


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def validate_input(op_model, params: dict[str, Any]) -> None:
    """Check required members, enums, lengths, ranges and patterns the way
    AWS reports them: ``1 validation error detected: Value 'x' at 'path'
    failed to satisfy constraint: ...``."""
    errors: list[str] = []
    if op_model.input_shape is not None:
        _validate(op_model.input_shape, params, "", errors)
    if errors:
        head = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected: "
        raise validation_error(head + "; ".join(errors))


def _validate(shape, value, path: str, errors: list[str]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        for name in shape.required_members:
            if value.get(name) is None:
                errors.append(f"Value null at '{_join(path, name)}' failed to satisfy constraint: Member must not be null")
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                _validate(member, value[name], _join(path, name), errors)
        return
    if kind == "list":
        if "max" in meta and len(value) > meta["max"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have length less than or equal to {meta['max']}"
            )
        if "min" in meta and len(value) < meta["min"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {meta['min']}"
            )
        for i, item in enumerate(value, 1):
            _validate(shape.member, item, f"{path}.{i}.member", errors)
        return
    if kind == "string":
        shown = value if len(value) <= 64 else value[:61] + "..."
        if "enum" in meta and value not in meta["enum"]:
            errors.append(
                f"Value '{shown}' at '{path}' failed to satisfy constraint: Member must satisfy enum value set: [{', '.join(meta['enum'])}]"
            )
        if "max" in meta and len(value) > meta["max"]:
            errors.append(
                f"Value '{shown}' at '{path}' failed to satisfy constraint: Member must have length less than or equal to {meta['max']}"
            )
        if "min" in meta and len(value) < meta["min"]:
            errors.append(
                f"Value '{shown}' at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {meta['min']}"
            )
        pattern = meta.get("pattern")
        if pattern and not _pattern(pattern).search(value):
            errors.append(
                f"Value '{shown}' at '{path}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
            )
        return
    if kind in ("integer", "long"):
        if "min" in meta and value < meta["min"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value greater than or equal to {meta['min']}"
            )
        if "max" in meta and value > meta["max"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value less than or equal to {meta['max']}"
            )


def _join(path: str, name: str) -> str:
    return f"{path}.{_camel(name)}" if path else _camel(name)


_PATTERNS: dict[str, re.Pattern] = {}


def _pattern(p: str) -> re.Pattern:
    compiled = _PATTERNS.get(p)
    if compiled is None:
        # AWS patterns match the whole value when they are anchored; unanchored
        # ones (e.g. ClientRequestToken) are matched as a full match too.
        anchored = p if p.startswith("^") else f"^(?:{p})$"
        compiled = _PATTERNS[p] = re.compile(anchored, re.S)
    return compiled


# ----------------------------------------------------------------- encoding


def new_request_id() -> str:
    return str(uuid.uuid4())


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return (
        _dt.datetime.fromtimestamp(ts, tz=_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        + "Z"
    )


def encode_response(service: str, action: str, result: dict[str, Any] | None, request_id: str) -> bytes:
    """``<ActionResponse xmlns=…><ActionResult>…</ActionResult><ResponseMetadata>…``.

    ``result`` keys must be output-shape member names: an unknown key is a
    bug in the emulator and raises (so it cannot silently vanish)."""
    model = service_model(service)
    op = model.operation_model(action)
    ns = model.metadata.get("xmlNamespace", "")
    parts = [f'<{action}Response xmlns="{ns}">']
    if op.output_shape is not None:
        wrapper = _result_wrapper(model, action)
        parts.append(f"<{wrapper}>")
        _encode_struct(op.output_shape, result or {}, parts)
        parts.append(f"</{wrapper}>")
    parts.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>")
    parts.append(f"</{action}Response>")
    return "".join(parts).encode("utf-8")


def _result_wrapper(model, action: str) -> str:
    raw = model._service_description["operations"][action].get("output", {})
    return raw.get("resultWrapper", f"{action}Result")


def _encode_struct(shape, value: dict[str, Any], parts: list[str]) -> None:
    unknown = set(value) - set(shape.members)
    if unknown:
        raise KeyError(f"{shape.name}: unknown member(s) {sorted(unknown)}")
    for name, member in shape.members.items():
        if name not in value or value[name] is None:
            continue
        wire = member.serialization.get("name", name)
        _encode_value(member, wire, value[name], parts)


def _encode_value(shape, tag: str, value: Any, parts: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        parts.append(f"<{tag}>")
        _encode_struct(shape, value, parts)
        parts.append(f"</{tag}>")
    elif kind == "list":
        member_tag = shape.member.serialization.get("name", "member")
        if shape.serialization.get("flattened"):
            for item in value:
                _encode_value(shape.member, tag, item, parts)
        else:
            parts.append(f"<{tag}>")
            for item in value:
                _encode_value(shape.member, member_tag, item, parts)
            parts.append(f"</{tag}>")
    elif kind == "map":
        parts.append(f"<{tag}>")
        for k, v in value.items():
            parts.append(f"<entry><key>{escape(str(k))}</key>")
            _encode_value(shape.value, "value", v, parts)
            parts.append("</entry>")
        parts.append(f"</{tag}>")
    elif kind == "boolean":
        parts.append(f"<{tag}>{'true' if value else 'false'}</{tag}>")
    elif kind == "timestamp":
        parts.append(f"<{tag}>{iso(value)}</{tag}>")
    else:
        parts.append(f"<{tag}>{escape(str(value))}</{tag}>")


def encode_error(err: ApiError, request_id: str) -> bytes:
    kind = "Sender" if err.sender else "Receiver"
    return (
        "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">"
        f"<Error><Type>{kind}</Type><Code>{escape(err.code)}</Code>"
        f"<Message>{escape(err.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode("utf-8")
