"""Seed spec: load it, check it, and build the organization it describes
in moto's Organizations backend (through ``org.Org``).

Spec (JSON, or YAML when the file ends in .yaml/.yml):

    {
      "management_account_id": "123456789012",   optional (default moto's)
      "trusted_access": true,                     optional (default true)
      "accounts": [ACCOUNT, ...],                 optional: accounts under the root
      "organizational_units": [OU, ...]
    }
    OU      = {"name": "Production", "accounts": [ACCOUNT, ...] | N,
               "organizational_units": [OU, ...]}
    ACCOUNT = {"name": "prod-1", "id": "12 digits"?, "email": "…"?,
               "status": "ACTIVE" | "SUSPENDED"?}

``"accounts": N`` creates N active accounts named ``<ou>-<i>`` (handy for
large benchmark organizations). Unknown keys are rejected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from org import Org

DEFAULT_SEED = Path(__file__).resolve().parent / "seed-default.json"
DEFAULT_MANAGEMENT_ACCOUNT_ID = "123456789012"

_TOP_KEYS = {"management_account_id", "trusted_access", "accounts", "organizational_units"}
_OU_KEYS = {"name", "accounts", "organizational_units"}
_ACCOUNT_KEYS = {"name", "id", "email", "status"}


class SeedError(ValueError):
    pass


def load(path: Path | None) -> dict[str, Any]:
    path = path or DEFAULT_SEED
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            spec = yaml.safe_load(text)
        else:
            spec = json.loads(text)
    except Exception as exc:  # noqa: BLE001
        raise SeedError(f"{path}: not valid {'YAML' if path.suffix in ('.yaml', '.yml') else 'JSON'}: {exc}") from None
    check(spec, str(path))
    return spec


def check(spec: Any, where: str) -> None:
    if not isinstance(spec, dict):
        raise SeedError(f"{where}: the seed must be an object")
    _keys(spec, _TOP_KEYS, where)
    mid = spec.get("management_account_id")
    if mid is not None and not (isinstance(mid, str) and len(mid) == 12 and mid.isdigit()):
        raise SeedError(f"{where}: management_account_id must be a 12-digit string")
    if "trusted_access" in spec and not isinstance(spec["trusted_access"], bool):
        raise SeedError(f"{where}: trusted_access must be true or false")
    _accounts(spec.get("accounts", []), f"{where}: accounts")
    for i, ou in enumerate(spec.get("organizational_units", [])):
        _ou(ou, f"{where}: organizational_units[{i}]")


def _keys(obj: dict, allowed: set[str], where: str) -> None:
    extra = set(obj) - allowed
    if extra:
        raise SeedError(f"{where}: unknown key(s) {sorted(extra)} (allowed: {sorted(allowed)})")


def _ou(ou: Any, where: str) -> None:
    if not isinstance(ou, dict) or not isinstance(ou.get("name"), str) or not ou["name"]:
        raise SeedError(f"{where}: an OU needs a non-empty \"name\"")
    _keys(ou, _OU_KEYS, where)
    if "/" in ou["name"]:
        raise SeedError(f"{where}: OU names must not contain '/'")
    _accounts(ou.get("accounts", []), f"{where} ({ou['name']}): accounts")
    for i, child in enumerate(ou.get("organizational_units", [])):
        _ou(child, f"{where}/{ou['name']}: organizational_units[{i}]")


def _accounts(accts: Any, where: str) -> None:
    if isinstance(accts, int) and not isinstance(accts, bool):
        if accts < 0:
            raise SeedError(f"{where}: a count must be >= 0")
        return
    if not isinstance(accts, list):
        raise SeedError(f"{where}: must be a list of accounts or a count")
    for a in accts:
        if not isinstance(a, dict) or not isinstance(a.get("name"), str) or not a["name"]:
            raise SeedError(f"{where}: every account needs a non-empty \"name\"")
        _keys(a, _ACCOUNT_KEYS, f"{where}: {a['name']}")
        if a.get("status", "ACTIVE") not in ("ACTIVE", "SUSPENDED"):
            raise SeedError(f"{where}: {a['name']}: status must be ACTIVE or SUSPENDED")


def management_account_id(spec: dict[str, Any]) -> str:
    return spec.get("management_account_id") or DEFAULT_MANAGEMENT_ACCOUNT_ID


def apply(spec: dict[str, Any], org: Org, trusted_access: bool | None) -> None:
    """Create the organization. ``trusted_access`` (from the CLI) overrides
    the spec; both default to enabled."""
    org.create_organization()
    _create_accounts(org, spec.get("accounts", []), org.root_id, "root")
    for ou in spec.get("organizational_units", []):
        _create_ou(org, ou, org.root_id)
    enabled = spec.get("trusted_access", True) if trusted_access is None else trusted_access
    org.set_trusted_access(enabled)


def _create_ou(org: Org, ou: dict, parent_id: str) -> None:
    ou_id = org.create_ou(ou["name"], parent_id)
    _create_accounts(org, ou.get("accounts", []), ou_id, ou["name"])
    for child in ou.get("organizational_units", []):
        _create_ou(org, child, ou_id)


def _create_accounts(org: Org, accts: Any, parent_id: str, label: str) -> None:
    if isinstance(accts, int):
        accts = [{"name": f"{label.lower()}-{i}"} for i in range(1, accts + 1)]
    for a in accts:
        acct_id = org.create_account(a["name"], parent_id, email=a.get("email"), account_id=a.get("id"))
        if a.get("status") == "SUSPENDED":
            org.suspend(acct_id)
