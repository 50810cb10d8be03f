"""The AWS Organization, kept in moto's Organizations backend (so
Organizations calls through the SDK see it) with the read helpers and
mutations the StackSet emulation and the admin API need.

Owns: OU paths, the "accounts under an OU" closure, suspension, trusted
access for StackSets. Must be told (``changed()``) about every mutation
so its index stays fresh; mutations made through the Organizations API are
reported by the middleware.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
from dataclasses import dataclass

STACKSETS_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"


@dataclass(frozen=True)
class AccountInfo:
    id: str
    name: str
    email: str
    status: str
    parent_id: str


class Org:
    def __init__(self, management_account_id: str):
        from moto.organizations.models import organizations_backends

        self._backends = organizations_backends
        self.management_account_id = management_account_id
        self.backend = organizations_backends[management_account_id]["aws"]
        self._lock = threading.RLock()
        self._version = 0
        self._index_version = -1
        self._accounts: dict[str, AccountInfo] = {}
        self._ous: dict[str, tuple[str, str | None]] = {}  # id -> (name, parent)
        self._children: dict[str, list[str]] = {}
        self._last_created: _dt.datetime | None = None

    # ------------------------------------------------------------ creation

    def create_organization(self) -> str:
        self.backend.create_organization(region="us-east-1", FeatureSet="ALL")
        self.changed()
        return self.root_id

    @property
    def root_id(self) -> str:
        return self.backend.org.root_id

    def create_ou(self, name: str, parent_id: str) -> str:
        with self._lock:
            self.backend.validate_parent_id(parent_id)
            for ou_id, (n, p) in self.ous().items():
                if p == parent_id and n == name:
                    raise ValueError(f"an OU named {name!r} already exists under {parent_id}")
            desc = self.backend.create_organizational_unit(Name=name, ParentId=parent_id)
            self.changed()
            return desc["OrganizationalUnit"]["Id"]

    def create_account(
        self, name: str, parent_id: str, *, email: str | None = None, account_id: str | None = None
    ) -> str:
        with self._lock:
            self.backend.validate_parent_id(parent_id)
            if account_id is not None:
                if not re.fullmatch(r"[0-9]{12}", account_id):
                    raise ValueError(f"account id must be 12 digits: {account_id!r}")
                if account_id in self.index() or account_id == self.management_account_id:
                    raise ValueError(f"account {account_id} already exists")
            acct = self._moto_create_account(name, email or f"{_slug(name)}@example.com")
            if account_id is not None and acct.id != account_id:
                mapping = self._backends.master_accounts
                mapping[account_id] = mapping.pop(acct.id, (self.management_account_id, "aws"))
                acct.id = account_id
            # Strictly increasing join times keep moto's ListAccounts paging sound.
            now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
            if self._last_created is not None and now <= self._last_created:
                now = self._last_created + _dt.timedelta(milliseconds=1)
            acct.create_time = now
            self._last_created = now
            acct.parent_id = parent_id
            self.changed()
            return acct.id

    def _moto_create_account(self, name: str, email: str):
        """moto's ``create_account`` without its per-call linear scans
        (attach_policy looks every account up by id: O(n^2) for a 5,000
        account seed). Same end state: account, default SCP/RCP attached,
        member -> management mapping."""
        from moto.organizations import utils as org_utils
        from moto.organizations.models import FakeAccount

        b = self.backend
        acct = FakeAccount(b.org, AccountName=name, Email=email)
        b.accounts.append(acct)
        for policy_id in (org_utils.DEFAULT_SCP_POLICY_ID, org_utils.DEFAULT_RCP_POLICY_ID):
            policy = b.get_policy_by_id(policy_id)
            acct.attached_policies.append(policy)
            policy.attachments.append(acct)
        self._backends.master_accounts[acct.id] = (b.account_id, b.partition)
        return acct

    def move_account(self, account_id: str, parent_id: str) -> None:
        with self._lock:
            self.backend.validate_parent_id(parent_id)
            acct = self.backend.get_account_by_id(account_id)
            acct.parent_id = parent_id
            self.changed()

    def suspend(self, account_id: str) -> None:
        with self._lock:
            acct = self.backend.get_account_by_id(account_id)
            acct.status = "SUSPENDED"
            acct.state = "SUSPENDED"
            self.changed()

    # --------------------------------------------------------------- reads

    def changed(self) -> None:
        with self._lock:
            self._version += 1

    def _refresh(self) -> None:
        with self._lock:
            if self._index_version == self._version:
                return
            accounts = {}
            for a in self.backend.accounts:
                accounts[a.id] = AccountInfo(a.id, a.name, a.email, a.status, a.parent_id)
            ous: dict[str, tuple[str, str | None]] = {}
            children: dict[str, list[str]] = {}
            for ou in self.backend.ou:
                parent = getattr(ou, "parent_id", None)
                if ou.id == self.root_id:
                    parent = None
                ous[ou.id] = (ou.name or "Root", parent)
                if parent:
                    children.setdefault(parent, []).append(ou.id)
            self._accounts, self._ous, self._children = accounts, ous, children
            self._index_version = self._version

    def index(self) -> dict[str, AccountInfo]:
        """Every account (management included) by id."""
        self._refresh()
        return self._accounts

    def ous(self) -> dict[str, tuple[str, str | None]]:
        """OU id (root included) -> (name, parent id)."""
        self._refresh()
        return self._ous

    def account(self, account_id: str) -> AccountInfo | None:
        return self.index().get(account_id)

    def is_suspended(self, account_id: str) -> bool:
        a = self.account(account_id)
        return a is not None and a.status != "ACTIVE"

    def ou_exists(self, ou_id: str) -> bool:
        return ou_id in self.ous()

    def ou_path(self, ou_id: str) -> str:
        """``Development/Sandbox``; the root is ``""``."""
        parts = []
        ous = self.ous()
        cur: str | None = ou_id
        while cur is not None and cur != self.root_id:
            name, parent = ous[cur]
            parts.append(name)
            cur = parent
        return "/".join(reversed(parts))

    def ou_by_path(self, path: str) -> str:
        path = path.strip("/")
        if path in ("", "Root", "root"):
            return self.root_id
        by_path = {self.ou_path(ou_id): ou_id for ou_id in self.ous()}
        if path not in by_path:
            raise KeyError(f"no OU at path {path!r}")
        return by_path[path]

    def descendants(self, ou_id: str) -> set[str]:
        """``ou_id`` and every OU below it."""
        self._refresh()
        out = {ou_id}
        stack = [ou_id]
        while stack:
            for child in self._children.get(stack.pop(), []):
                if child not in out:
                    out.add(child)
                    stack.append(child)
        return out

    def ancestors(self, ou_id: str) -> list[str]:
        """``ou_id`` then its parents up to the root."""
        ous = self.ous()
        out = []
        cur: str | None = ou_id
        while cur is not None and cur in ous:
            out.append(cur)
            cur = ous[cur][1]
        return out

    def accounts_under(self, ou_id: str) -> list[AccountInfo]:
        """Member accounts (any status; never the management account) in
        ``ou_id`` and all its child OUs, in join order."""
        scope = self.descendants(ou_id)
        return [
            a
            for a in self.index().values()
            if a.parent_id in scope and a.id != self.management_account_id
        ]

    def snapshot(self) -> dict[str, tuple[str, str]]:
        return {a.id: (a.parent_id, a.status) for a in self.index().values()}

    # ------------------------------------------------------ trusted access

    def trusted_access(self) -> bool:
        return any(s["ServicePrincipal"] == STACKSETS_PRINCIPAL for s in self.backend.services)

    def set_trusted_access(self, enabled: bool) -> None:
        with self._lock:
            if enabled:
                self.backend.enable_aws_service_access(ServicePrincipal=STACKSETS_PRINCIPAL)
            else:
                self.backend.services[:] = [
                    s for s in self.backend.services if s["ServicePrincipal"] != STACKSETS_PRINCIPAL
                ]

    # ---------------------------------------------------------- reporting

    def describe(self) -> dict:
        """The admin API's view: root, OUs by path, accounts."""
        ous = self.ous()
        return {
            "management_account_id": self.management_account_id,
            "root_id": self.root_id,
            "roots": [{"id": self.root_id, "name": "Root"}],
            "trusted_access": self.trusted_access(),
            "organizational_units": [
                {"id": ou_id, "name": name, "path": self.ou_path(ou_id), "parent_id": parent}
                for ou_id, (name, parent) in ous.items()
                if ou_id != self.root_id
            ],
            "accounts": [
                {
                    "id": a.id,
                    "name": a.name,
                    "email": a.email,
                    "status": a.status,
                    "parent_id": a.parent_id,
                    "ou_path": self.ou_path(a.parent_id) if a.parent_id in ous else None,
                    "management": a.id == self.management_account_id,
                }
                for a in self.index().values()
            ],
        }

    def env_exports(self) -> dict[str, str]:
        ous = self.ous()
        out = {
            "SANDBOX_ROOT_ID": self.root_id,
            "SANDBOX_MANAGEMENT_ACCOUNT_ID": self.management_account_id,
        }
        for ou_id in ous:
            if ou_id == self.root_id:
                continue
            out["SANDBOX_OU_" + env_name(self.ou_path(ou_id))] = ou_id
        members = [a for a in self.index().values() if a.id != self.management_account_id]
        out["SANDBOX_ACCOUNT_IDS"] = ",".join(a.id for a in members if a.status == "ACTIVE")
        out["SANDBOX_SUSPENDED_ACCOUNT_IDS"] = ",".join(a.id for a in members if a.status == "SUSPENDED")
        return out


def env_name(path: str) -> str:
    """``Development/Sandbox`` -> ``DEVELOPMENT_SANDBOX``."""
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "_", part).strip("_").upper() for part in path.split("/"))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "account"
