"""CloudFormation templates: loading the Datadog template, publishing it in
moto's S3, resolving ``TemplateURL``s, and the little template semantics a
StackSet emulator needs (parameters, NoEcho, AllowedValues, Rules, required
capabilities, and the properties of the Datadog custom resource).

Knows nothing about StackSets or HTTP; raises ``ApiError`` for what AWS
reports as ``ValidationError`` / ``InsufficientCapabilitiesException``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

from query_protocol import ApiError, validation_error

HERE = Path(__file__).resolve().parent
# <repo>/emulators/aws -> ../shared/reference/datadog/ beside the repository
SHARED_TEMPLATE = HERE.parents[2] / "shared" / "reference" / "datadog" / "organizations-template.yaml"
TEST_TEMPLATE = HERE / "test-template.yaml"

TEMPLATE_BUCKET = "datadog-cloudformation-template"
TEMPLATE_VERSION = "v4.3.0"
TEMPLATE_KEY = f"aws/{TEMPLATE_VERSION}/main_organizations.yaml"
TEST_TEMPLATE_KEY = "aws/emulator-test/main_organizations.yaml"
TEMPLATE_URL = f"https://{TEMPLATE_BUCKET}.s3.amazonaws.com/{TEMPLATE_KEY}"
MAX_TEMPLATE_BODY = 51_200

DATADOG_CR_TYPE = "Custom::DatadogAWSAccountIntegration"

# ------------------------------------------------------------- YAML loading


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation short-form tags (!Ref …)."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)
# Keep dates (AWSTemplateFormatVersion: 2010-09-09) as plain strings.
_CfnLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in _CfnLoader.yaml_implicit_resolvers.items()
}


def _as_text(value: Any) -> str:
    """CloudFormation compares parameter values as strings; YAML may have
    given us booleans/numbers (``AllowedValues: [true, false]``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_document(body: str) -> dict:
    text = body.lstrip()
    try:
        if text.startswith("{"):
            doc = json.loads(body)
        else:
            doc = yaml.load(body, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    except json.JSONDecodeError:
        raise validation_error("Template format error: JSON not well-formed.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise validation_error(f"Template format error: YAML not well-formed.{where}") from None
    if not isinstance(doc, dict):
        raise validation_error("Template format error: unsupported structure.")
    if not isinstance(doc.get("Resources"), dict) or not doc["Resources"]:
        raise validation_error("Template format error: At least one Resources member must be defined.")
    return doc


# -------------------------------------------------------------- semantics


@dataclass
class ParamSpec:
    name: str
    type: str
    default: str | None
    no_echo: bool
    allowed: list[str] | None
    pattern: str | None
    min_length: int | None
    max_length: int | None


_NAMED_IAM = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
}

@dataclass
class Template:
    body: str
    doc: dict
    digest: str
    parameters: dict[str, ParamSpec] = field(default_factory=dict)
    required_capability: str | None = None
    custom_resource_id: str | None = None

    # ---- parameters

    @property
    def no_echo_keys(self) -> set[str]:
        return {n for n, p in self.parameters.items() if p.no_echo}

    def resolve_parameters(
        self,
        given: list[dict] | None,
        previous: dict[str, str] | None,
        *,
        allow_previous: bool,
    ) -> dict[str, str]:
        """Effective values for every template parameter, in template order.

        ``given`` is the request's Parameters list; a parameter not given falls
        back to the template default (as CloudFormation does on update);
        ``UsePreviousValue`` keeps ``previous[key]``.
        """
        given = given or []
        unknown = [p.get("ParameterKey", "") for p in given if p.get("ParameterKey") not in self.parameters]
        if unknown:
            raise validation_error(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
        by_key: dict[str, dict] = {}
        for p in given:
            by_key[p["ParameterKey"]] = p
        values: dict[str, str] = {}
        missing: list[str] = []
        for name, spec in self.parameters.items():
            p = by_key.get(name)
            if p is not None and p.get("UsePreviousValue"):
                if not allow_previous:
                    raise validation_error(
                        f"Invalid input for parameter key {name}. Cannot specify usePreviousValue as true for a parameter on create"
                    )
                if p.get("ParameterValue"):
                    raise validation_error(
                        f"Invalid input for parameter key {name}. Cannot specify usePreviousValue as true and non empty value for a parameter"
                    )
                if previous is not None and name in previous:
                    values[name] = previous[name]
                elif spec.default is not None:
                    values[name] = spec.default
                else:
                    missing.append(name)
            elif p is not None and "ParameterValue" in p:
                values[name] = p["ParameterValue"]
            elif p is not None:
                # Key given without value nor UsePreviousValue: AWS treats it as empty.
                values[name] = ""
            elif spec.default is not None:
                values[name] = spec.default
            else:
                missing.append(name)
        if missing:
            raise validation_error(f"Parameters: [{', '.join(missing)}] must have values")
        return values

    def check_values(self, values: dict[str, str]) -> None:
        """AllowedValues / AllowedPattern / lengths, then the template Rules."""
        for name, spec in self.parameters.items():
            value = values.get(name, "")
            if spec.allowed is not None and value not in spec.allowed:
                raise validation_error(f"Parameter '{name}' must be one of AllowedValues")
            if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
                raise validation_error(f"Parameter '{name}' must match pattern {spec.pattern}")
            if spec.min_length is not None and len(value) < spec.min_length:
                raise validation_error(f"Parameter '{name}' must contain at least {spec.min_length} characters")
            if spec.max_length is not None and len(value) > spec.max_length:
                raise validation_error(f"Parameter '{name}' must contain at most {spec.max_length} characters")
        rules = self.doc.get("Rules") or {}
        ev = Evaluator(self.doc, values, account="000000000000", region="us-east-1")
        for rule_name, rule in rules.items():
            if not isinstance(rule, dict):
                continue
            if "RuleCondition" in rule and not ev.truthy(rule["RuleCondition"]):
                continue
            for assertion in rule.get("Assertions") or []:
                if not ev.truthy(assertion.get("Assert")):
                    desc = assertion.get("AssertDescription") or f"Template error: rule {rule_name} failed"
                    raise validation_error(desc)

    # ---- capabilities

    def check_capabilities(self, capabilities: list[str] | None) -> None:
        caps = set(capabilities or [])
        need = self.required_capability
        if need is None:
            return
        if need == "CAPABILITY_NAMED_IAM" and "CAPABILITY_NAMED_IAM" not in caps:
            raise ApiError("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_NAMED_IAM]")
        if need == "CAPABILITY_IAM" and not caps & {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"}:
            raise ApiError("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")
        if need == "CAPABILITY_AUTO_EXPAND" and "CAPABILITY_AUTO_EXPAND" not in caps:
            raise ApiError("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_AUTO_EXPAND]")

    # ---- the Datadog custom resource

    def custom_resource_props(self, values: dict[str, str], account: str, region: str) -> dict | None:
        """The evaluated Properties of the template's
        ``Custom::DatadogAWSAccountIntegration`` (what its Lambda receives as
        ``ResourceProperties``), or None when the template has none."""
        if self.custom_resource_id is None:
            return None
        res = self.doc["Resources"][self.custom_resource_id]
        ev = Evaluator(self.doc, values, account=account, region=region)
        if "Condition" in res and not ev.condition(res["Condition"]):
            return None
        props = ev.eval(res.get("Properties") or {})
        props.pop("ServiceToken", None)
        return props


def analyse(body: str) -> Template:
    doc = parse_document(body)
    params: dict[str, ParamSpec] = {}
    for name, raw in (doc.get("Parameters") or {}).items():
        raw = raw or {}
        allowed = raw.get("AllowedValues")
        params[name] = ParamSpec(
            name=name,
            type=str(raw.get("Type", "String")),
            default=_as_text(raw["Default"]) if "Default" in raw and raw["Default"] is not None else None,
            no_echo=_as_text(raw.get("NoEcho", False)).lower() == "true",
            allowed=[_as_text(v) for v in allowed] if isinstance(allowed, list) else None,
            pattern=raw.get("AllowedPattern"),
            min_length=int(raw["MinLength"]) if "MinLength" in raw else None,
            max_length=int(raw["MaxLength"]) if "MaxLength" in raw else None,
        )
    need = None
    cr_id = None
    for logical_id, res in doc["Resources"].items():
        rtype = (res or {}).get("Type", "")
        props = (res or {}).get("Properties") or {}
        if rtype.startswith("AWS::IAM::"):
            name_prop = _NAMED_IAM.get(rtype)
            if name_prop and name_prop in props:
                need = "CAPABILITY_NAMED_IAM"
            elif need is None:
                need = "CAPABILITY_IAM"
        if rtype == DATADOG_CR_TYPE and cr_id is None:
            cr_id = logical_id
    if need is None and doc.get("Transform"):
        need = "CAPABILITY_AUTO_EXPAND"
    return Template(
        body=body,
        doc=doc,
        digest=hashlib.sha256(body.encode("utf-8")).hexdigest(),
        parameters=params,
        required_capability=need,
        custom_resource_id=cr_id,
    )


class Evaluator:
    """Evaluates the intrinsic functions a template's conditions, rules and
    custom-resource properties use. Unknown values (resource attributes,
    physical ids) come back as placeholders; this is not a CloudFormation
    engine."""

    def __init__(self, doc: dict, values: dict[str, str], account: str, region: str):
        self.doc = doc
        self.values = values
        self.pseudo = {
            "AWS::AccountId": account,
            "AWS::Partition": "aws-us-gov" if region.startswith("us-gov-") else ("aws-cn" if region.startswith("cn-") else "aws"),
            "AWS::Region": region,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "StackSet-emulated",
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account}:stack/StackSet-emulated/0",
        }
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = False  # guards against cycles
            self._conditions[name] = self.truthy((self.doc.get("Conditions") or {}).get(name))
        return self._conditions[name]

    def truthy(self, expr: Any) -> bool:
        value = self.eval(expr)
        if isinstance(value, bool):
            return value
        return _as_text(value).lower() == "true"

    def eval(self, node: Any) -> Any:
        if isinstance(node, list):
            out = [self.eval(v) for v in node]
            return [v for v in out if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            fn = _FUNCTIONS.get(key)
            if fn is not None:
                return fn(self, arg)
        out = {}
        for k, v in node.items():
            ev = self.eval(v)
            if ev is not _NO_VALUE:
                out[k] = ev
        return out

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.values:
            return self.values[name]
        return name  # a resource: its physical id is unknown here

    def sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, extra = arg[0], {k: self.eval(v) for k, v in (arg[1] if len(arg) > 1 else {}).items()}
        else:
            text, extra = arg, {}

        def repl(m: re.Match) -> str:
            inner = m.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in extra:
                return _as_text(extra[inner])
            if "." in inner and inner.split(".", 1)[0] not in self.values:
                return inner  # resource attribute placeholder
            return _as_text(self.ref(inner))

        return re.sub(r"\$\{([^}]*)\}", repl, str(text))


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


_NO_VALUE = _NoValue()


def _fn_if(ev: Evaluator, arg):
    cond, a, b = arg
    return ev.eval(a) if ev.condition(cond) else ev.eval(b)


def _fn_equals(ev: Evaluator, arg):
    a, b = (ev.eval(v) for v in arg)
    return _as_text(a) == _as_text(b)


def _fn_find_in_map(ev: Evaluator, arg):
    name, k1, k2 = (ev.eval(v) for v in arg[:3])
    try:
        return ev.doc["Mappings"][name][_as_text(k1)][_as_text(k2)]
    except (KeyError, TypeError):
        return ""


def _fn_select(ev: Evaluator, arg):
    idx, lst = ev.eval(arg[0]), ev.eval(arg[1])
    try:
        return lst[int(idx)]
    except (IndexError, ValueError, TypeError):
        return ""


_FUNCTIONS = {
    "Ref": lambda ev, a: ev.ref(a),
    "Condition": lambda ev, a: ev.condition(a),
    "Fn::If": _fn_if,
    "Fn::Equals": _fn_equals,
    "Fn::Not": lambda ev, a: not ev.truthy(a[0] if isinstance(a, list) else a),
    "Fn::And": lambda ev, a: all(ev.truthy(x) for x in a),
    "Fn::Or": lambda ev, a: any(ev.truthy(x) for x in a),
    "Fn::Contains": lambda ev, a: _as_text(ev.eval(a[1])) in [_as_text(x) for x in ev.eval(a[0])],
    "Fn::Sub": lambda ev, a: ev.sub(a),
    "Fn::Join": lambda ev, a: _as_text(a[0]).join(_as_text(x) for x in ev.eval(a[1])),
    "Fn::Split": lambda ev, a: _as_text(ev.eval(a[1])).split(_as_text(a[0])),
    "Fn::Select": _fn_select,
    "Fn::FindInMap": _fn_find_in_map,
    "Fn::GetAtt": lambda ev, a: ".".join(str(x) for x in (a if isinstance(a, list) else [a])),
    "Fn::Base64": lambda ev, a: ev.eval(a),
}


# ------------------------------------------------------------- the store


class TemplateStore:
    """Publishes templates in moto's S3 and resolves TemplateURLs / bodies
    into analysed ``Template``s (cached by content digest)."""

    def __init__(self, management_account_id: str):
        self.account_id = management_account_id
        self._cache: dict[str, Template] = {}
        self._lock = threading.Lock()
        self.source: str = ""

    def publish(self, template_file: Path | None) -> str:
        """Upload the Datadog template (``--template`` file, else the shared
        reference copy, else our test template) and the test template.
        Returns a description of the source."""
        from moto.s3.models import s3_backends

        if template_file is not None:
            path, source = template_file, f"file:{template_file}"
        elif SHARED_TEMPLATE.is_file():
            path, source = SHARED_TEMPLATE, f"shared:{SHARED_TEMPLATE}"
        else:
            path, source = TEST_TEMPLATE, f"test:{TEST_TEMPLATE}"
        body = path.read_text(encoding="utf-8")
        # The release script substitutes the version placeholder on line 1.
        body = body.replace("<VERSION_PLACEHOLDER>", TEMPLATE_VERSION)
        backend = s3_backends[self.account_id]["aws"]
        backend.create_bucket(TEMPLATE_BUCKET, "us-east-1")
        backend.put_object(TEMPLATE_BUCKET, TEMPLATE_KEY, body.encode("utf-8"))
        backend.put_object(TEMPLATE_BUCKET, TEST_TEMPLATE_KEY, TEST_TEMPLATE.read_bytes())
        self.source = source
        return source

    def from_body(self, body: str) -> Template:
        if len(body.encode("utf-8")) > MAX_TEMPLATE_BODY:
            raise validation_error(
                "1 validation error detected: Value at 'templateBody' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_TEMPLATE_BODY}"
            )
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is not None:
            return cached
        tpl = analyse(body)
        with self._lock:
            self._cache[digest] = tpl
        return tpl

    def from_url(self, url: str) -> Template:
        bucket, key = parse_s3_url(url)
        body = self._read_s3(bucket, key)
        # TemplateURL allows bigger templates (1 MB) than TemplateBody.
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is not None:
            return cached
        tpl = analyse(body)
        with self._lock:
            self._cache[digest] = tpl
        return tpl

    def _read_s3(self, bucket: str, key: str) -> str:
        from moto.s3.models import s3_backends

        denied = validation_error(
            "S3 error: Access Denied\nFor more information check http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html"
        )
        where = s3_backends.bucket_accounts.get(bucket)
        if where is None:
            raise denied
        partition, account = where
        try:
            obj = s3_backends[account][partition].get_object(bucket, key)
        except Exception:  # noqa: BLE001 - any moto lookup failure is "no such object"
            obj = None
        if obj is None:
            raise denied
        return obj.value.decode("utf-8")


_VHOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.\-]*)\.s3(?:[.-](?P<region>[a-z0-9\-]+))?\.amazonaws\.com$")
_PATHHOST = re.compile(r"^s3(?:[.-](?P<region>[a-z0-9\-]+))?\.amazonaws\.com$")


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, key) of an S3 TemplateURL: virtual-hosted
    (``bucket.s3[.region|-region].amazonaws.com/key``), path-style
    (``s3[.region].amazonaws.com/bucket/key``), ``s3://bucket/key`` or the
    emulator's own loopback URL (``http://127.0.0.1:PORT/bucket/key``)."""
    u = urlparse(url)
    host = (u.hostname or "").lower()
    path = unquote(u.path.lstrip("/"))
    if u.scheme == "s3" and host and path:
        return host, path
    if u.scheme in ("https", "http"):
        m = _VHOST.match(host)
        if m and path:
            return m.group("bucket"), path
        if (_PATHHOST.match(host) or host in ("127.0.0.1", "localhost")) and "/" in path:
            bucket, key = path.split("/", 1)
            return bucket, key
    raise validation_error("TemplateURL must be a supported URL.")
