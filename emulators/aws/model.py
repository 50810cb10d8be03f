"""In-memory StackSet state: stack sets, their stack instances and
operations. Plain data plus the few invariants that keep listing cheap
(instances sorted by (account, region) for O(page) pagination).

No HTTP, no threads; callers hold ``Context.lock`` while touching it.
"""

from __future__ import annotations

import bisect
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from templates import Template

SUSPENDED_REASON = (
    "This account is suspended. To remove this instance from the stack set, "
    "run DeleteStackInstances with the RetainStacks parameter."
)
CANCELLED_TOLERANCE = "Cancelled since failure tolerance has exceeded"
CANCELLED_STOPPED = "Cancelled since the operation was stopped"

ACTIVE_OP_STATUSES = ("QUEUED", "RUNNING", "STOPPING")


@dataclass(frozen=True)
class Definition:
    """What a stack set deploys; an operation captures the one current when
    it was accepted."""

    template: Template
    params: dict[str, str]
    version: int


@dataclass
class Instance:
    account: str
    region: str
    ou_id: str
    status: str = "OUTDATED"  # CURRENT | OUTDATED | INOPERABLE
    detailed: str = "PENDING"  # StackInstanceDetailedStatus
    reason: str | None = None
    stack_id: str | None = None
    last_op: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    # What the emulated stack holds: None = no stack (never created, or rolled back).
    deployed: dict[str, Any] | None = None
    # (status, detailed, reason) before the running operation touched it.
    prev: tuple[str, str, str | None] | None = None

    def mark(self, status: str, detailed: str, reason: str | None = None) -> None:
        self.status, self.detailed, self.reason = status, detailed, reason


@dataclass
class Result:
    account: str
    region: str
    ou_id: str
    status: str = "PENDING"  # PENDING | RUNNING | SUCCEEDED | FAILED | CANCELLED
    reason: str | None = None


@dataclass
class Operation:
    id: str
    action: str  # CREATE | UPDATE | DELETE
    fingerprint: str
    definition: Definition
    prefs: dict[str, Any]  # effective preferences (see operations.effective_preferences)
    prefs_echo: dict[str, Any]  # what DescribeStackSetOperation shows
    plan: dict[str, list[str]]  # region -> accounts, in execution order
    results: list[Result]
    retain_stacks: bool | None = None
    targets_echo: dict[str, Any] | None = None
    auto: bool = False
    status: str = "QUEUED"
    reason: str | None = None
    created: float = field(default_factory=time.time)
    ended: float | None = None
    stop_requested: bool = False
    failed: int = 0
    # DELETE with AccountFilterType NONE: OUs to drop from the set's
    # OrganizationalUnitIds once no instance deployed through them is left.
    forget_ous: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.index = {(r.account, r.region): r for r in self.results}

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_OP_STATUSES


@dataclass
class StackSet:
    name: str
    id: str
    arn: str
    region: str  # administration region: the set answers only there
    call_as: str
    permission_model: str
    definition: Definition
    description: str | None = None
    capabilities: list[str] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    auto_deployment: dict[str, bool] | None = None
    managed_execution: bool = False
    client_token: str | None = None
    admin_role_arn: str | None = None
    execution_role_name: str | None = None
    status: str = "ACTIVE"
    ou_ids: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    instances: dict[tuple[str, str], Instance] = field(default_factory=dict)
    sorted_keys: list[tuple[str, str]] = field(default_factory=list)
    operations: dict[str, Operation] = field(default_factory=dict)
    queue: deque = field(default_factory=deque)
    worker: Any = None

    @staticmethod
    def new_id(name: str) -> str:
        return f"{name}:{uuid.uuid4()}"

    @property
    def key(self) -> tuple[str, str]:
        """Names are unique per administration region (where CreateStackSet
        was called). Not per CallAs: a delegated admin's sets live in the
        management account too, so the names collide; CallAs only hides."""
        return (self.region, self.name)

    # ---- instances (kept sorted for pagination)

    def add_instance(self, inst: Instance) -> None:
        key = (inst.account, inst.region)
        if key not in self.instances:
            bisect.insort(self.sorted_keys, key)
        self.instances[key] = inst

    def remove_instance(self, key: tuple[str, str]) -> None:
        if self.instances.pop(key, None) is not None:
            i = bisect.bisect_left(self.sorted_keys, key)
            if i < len(self.sorted_keys) and self.sorted_keys[i] == key:
                del self.sorted_keys[i]

    def stack_id_for(self, account: str, region: str) -> str:
        return f"arn:aws:cloudformation:{region}:{account}:stack/StackSet-{self.name}-{uuid.uuid4()}/{uuid.uuid4()}"

    # ---- operations

    def active_operation(self) -> Operation | None:
        for op in self.queue:
            if op.active:
                return op
        return None

    def uses_region(self, region: str) -> None:
        if region not in self.regions:
            self.regions.append(region)

    def prune_regions(self) -> None:
        """Regions stay listed while an instance or an active operation uses them."""
        used = {r for (_, r) in self.instances}
        for op in self.queue:
            used.update(op.plan)
        self.regions = [r for r in self.regions if r in used]
