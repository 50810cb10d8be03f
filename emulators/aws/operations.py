"""StackSet operations in time: OperationPreferences (validation and the
effective concurrency / failure tolerance) and the background runner that
moves operations QUEUED -> RUNNING -> SUCCEEDED | FAILED | STOPPED and
their stack instances PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELLED.

One worker thread per stack set drains that set's queue in order, so
operations on one set never overlap. Each (account, region) takes
``instance_seconds``; a batch of up to the effective MaxConcurrent count
runs together. The per-instance work (the template's custom resource
against Datadog) happens inside that time, off the state lock.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from model import (
    CANCELLED_STOPPED,
    CANCELLED_TOLERANCE,
    SUSPENDED_REASON,
    Instance,
    Operation,
    StackSet,
)
from query_protocol import validation_error

if TYPE_CHECKING:
    from context import Context

log = logging.getLogger("aws-emulator.operations")

# ------------------------------------------------------------ preferences


def effective_preferences(raw: dict[str, Any] | None, regions: list[str]) -> tuple[dict, dict, list[str]]:
    """Validate OperationPreferences the way AWS does and return
    (effective prefs, prefs to echo in DescribeStackSetOperation, region order).

    Enum and range checks happen earlier (query_protocol.validate_input).
    """
    raw = dict(raw or {})
    if raw.get("FailureToleranceCount") is not None and raw.get("FailureTolerancePercentage") is not None:
        raise validation_error(
            "Exactly one of FailureTolerancePercentage and FailureToleranceCount must be specified since both parameters are present"
        )
    if raw.get("MaxConcurrentCount") is not None and raw.get("MaxConcurrentPercentage") is not None:
        raise validation_error(
            "Exactly one of MaxConcurrentPercentage and MaxConcurrentCount must be specified since both parameters are present"
        )
    mode = raw.get("ConcurrencyMode") or "STRICT_FAILURE_TOLERANCE"
    ftc, mcc = raw.get("FailureToleranceCount"), raw.get("MaxConcurrentCount")
    if mode == "STRICT_FAILURE_TOLERANCE" and ftc is not None and mcc is not None and mcc > ftc + 1:
        raise validation_error(
            "MaxConcurrentCount must be less than or equal to FailureToleranceCount + 1 "
            "when ConcurrencyMode is STRICT_FAILURE_TOLERANCE"
        )
    order = raw.get("RegionOrder") or []
    unknown = [r for r in order if r not in regions]
    if unknown:
        raise validation_error(f"RegionOrder contains Regions not targeted by the operation: {unknown}")
    region_order = [r for r in order if r in regions] + [r for r in regions if r not in order]

    echo = {"RegionConcurrencyType": raw.get("RegionConcurrencyType") or "SEQUENTIAL"}
    if order:
        echo["RegionOrder"] = list(order)
    if raw.get("FailureTolerancePercentage") is not None:
        echo["FailureTolerancePercentage"] = raw["FailureTolerancePercentage"]
    else:
        echo["FailureToleranceCount"] = ftc if ftc is not None else 0
    if raw.get("MaxConcurrentPercentage") is not None:
        echo["MaxConcurrentPercentage"] = raw["MaxConcurrentPercentage"]
    else:
        echo["MaxConcurrentCount"] = mcc if mcc is not None else 1
    if raw.get("ConcurrencyMode"):
        echo["ConcurrencyMode"] = raw["ConcurrencyMode"]
    prefs = dict(echo)
    prefs["ConcurrencyMode"] = mode
    return prefs, echo, region_order


def _limits(prefs: dict, n: int) -> tuple[int, int]:
    """(failure tolerance, max concurrency) for a region with n instances."""
    if prefs.get("FailureTolerancePercentage") is not None:
        tol = math.floor(prefs["FailureTolerancePercentage"] * n / 100)
    else:
        tol = prefs.get("FailureToleranceCount", 0)
    if prefs.get("MaxConcurrentPercentage") is not None:
        maxc = max(1, math.floor(prefs["MaxConcurrentPercentage"] * n / 100))
    else:
        maxc = prefs.get("MaxConcurrentCount", 1)
    return tol, maxc


# ----------------------------------------------------------------- runner


@dataclass
class Outcome:
    kind: str  # SUCCEEDED | FAILED | SKIPPED
    reason: str | None = None
    deployed: dict | None = None


class _Region:
    def __init__(self, name: str, accounts: list[str], prefs: dict):
        self.name = name
        self.accounts = accounts
        self.cursor = 0
        self.failures = 0
        self.tolerance, self.max_concurrent = _limits(prefs, len(accounts))
        self.strict = prefs.get("ConcurrencyMode", "STRICT_FAILURE_TOLERANCE") == "STRICT_FAILURE_TOLERANCE"
        self.done = not accounts
        self.failed = False

    def next_batch(self) -> list[str]:
        size = self.max_concurrent
        if self.strict:
            size = max(1, min(size, self.tolerance + 1 - self.failures))
        batch = self.accounts[self.cursor : self.cursor + size]
        self.cursor += len(batch)
        return batch


class Runner:
    def __init__(self, ctx: "Context"):
        self.ctx = ctx
        self.stopping = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="instance")

    def submit(self, ss: StackSet, op: Operation) -> None:
        """Queue ``op`` (caller holds the lock)."""
        ss.operations[op.id] = op
        ss.queue.append(op)
        if ss.worker is None:
            t = threading.Thread(target=self._drain, args=(ss,), name=f"stackset-{ss.name}", daemon=True)
            ss.worker = t
            t.start()

    def stop(self) -> None:
        self.stopping.set()
        self.pool.shutdown(wait=False, cancel_futures=True)

    # -- worker

    def _drain(self, ss: StackSet) -> None:
        lock = self.ctx.lock
        while True:
            with lock:
                if not ss.queue or self.stopping.is_set():
                    ss.worker = None
                    return
                op = ss.queue[0]
            try:
                self._execute(ss, op)
            except Exception:  # noqa: BLE001 - never leave an operation RUNNING forever
                if self.stopping.is_set():
                    return  # shutting down: the pool refuses work, nothing to report
                log.exception("operation %s on %s crashed", op.id, ss.name)
                with lock:
                    self.cancel_rest(ss, op, "Internal emulator error")
                    op.status, op.reason, op.ended = "FAILED", "Internal emulator error", time.time()
            with lock:
                if ss.queue and ss.queue[0] is op:
                    ss.queue.popleft()
                self.ctx.stacksets.after_operation(ss, op)

    def _execute(self, ss: StackSet, op: Operation) -> None:
        lock = self.ctx.lock
        with lock:
            if op.stop_requested:
                self.cancel_rest(ss, op, CANCELLED_STOPPED)
                op.status, op.ended = "STOPPED", time.time()
                return
            op.status = "RUNNING"
        regions = [_Region(r, accts, op.prefs) for r, accts in op.plan.items()]
        parallel = op.prefs.get("RegionConcurrencyType") == "PARALLEL"
        failed_regions: list[str] = []
        stopped = False
        while True:
            if self.stopping.is_set():
                return
            with lock:
                if op.stop_requested:
                    stopped = True
                    op.status = "STOPPING"
                    break
            pending = [r for r in regions if not r.done]
            if not pending:
                break
            active = pending if parallel else pending[:1]
            items: list[tuple[str, str]] = []
            for reg in active:
                batch = reg.next_batch()
                items.extend((a, reg.name) for a in batch)
                if reg.cursor >= len(reg.accounts):
                    reg.done = True
            if items:
                failures = self._run_batch(ss, op, items)
                for reg in active:
                    reg.failures += failures.get(reg.name, 0)
            for reg in active:
                if reg.failures > reg.tolerance and not reg.failed:
                    reg.failed = True
                    reg.done = True
                    failed_regions.append(reg.name)
                    with lock:
                        self._cancel_accounts(ss, op, reg.name, reg.accounts[reg.cursor :], CANCELLED_TOLERANCE)
                    if not parallel:
                        # AWS does not start the remaining Regions either.
                        for later in regions:
                            if not later.done:
                                later.done = True
                                with lock:
                                    self._cancel_accounts(ss, op, later.name, later.accounts[later.cursor :], CANCELLED_TOLERANCE)
        with lock:
            op.ended = time.time()
            if stopped:
                self.cancel_rest(ss, op, CANCELLED_STOPPED)
                op.status = "STOPPED"
                op.reason = "The operation was stopped by StopStackSetOperation"
            elif failed_regions:
                op.status = "FAILED"
                op.reason = (
                    f"Failure tolerance exceeded in Region(s) {', '.join(failed_regions)}: "
                    f"{op.failed} stack instance(s) failed"
                )
            else:
                op.status = "SUCCEEDED"

    def _run_batch(self, ss: StackSet, op: Operation, items: list[tuple[str, str]]) -> dict[str, int]:
        lock = self.ctx.lock
        jobs = []
        with lock:
            for key in items:
                op.index[key].status = "RUNNING"
                inst = ss.instances.get(key)
                if inst is not None:
                    inst.mark("OUTDATED", "RUNNING")
                    snapshot = (dict(inst.overrides), inst.deployed)
                else:
                    snapshot = ({}, None)
                jobs.append((key, snapshot))
        started = time.monotonic()
        if len(jobs) == 1:
            outcomes = [self._act(op, jobs[0][0], jobs[0][1])]
        else:
            outcomes = list(self.pool.map(lambda job: self._act(op, job[0], job[1]), jobs))
        jitter = self.ctx.settings.instance_jitter_seconds
        slowest = max((random.uniform(0, jitter) for _ in jobs), default=0.0) if jitter > 0 else 0.0
        remaining = self.ctx.settings.instance_seconds + slowest - (time.monotonic() - started)
        if remaining > 0:
            self.stopping.wait(remaining)
        failures: dict[str, int] = {}
        with lock:
            for (key, _), outcome in zip(jobs, outcomes):
                if self._apply(ss, op, key, outcome):
                    failures[key[1]] = failures.get(key[1], 0) + 1
        return failures

    # -- one stack instance

    def _act(self, op: Operation, key: tuple[str, str], snapshot) -> Outcome:
        account, region = key
        overrides, deployed = snapshot
        ctx = self.ctx
        if op.action == "DELETE":
            if op.retain_stacks:
                return Outcome("SUCCEEDED")
            if ctx.org.is_suspended(account):
                return Outcome("FAILED", SUSPENDED_REASON)
            fault = ctx.faults.take_instance_failure(account, region)
            if fault is not None:
                return Outcome("FAILED", fault)
            if deployed and deployed.get("props"):
                reason = ctx.datadog.delete(deployed["props"])
                if reason is not None:
                    return Outcome("FAILED", reason)
            return Outcome("SUCCEEDED")

        if ctx.org.is_suspended(account):
            return Outcome("SKIPPED", SUSPENDED_REASON)
        fault = ctx.faults.take_instance_failure(account, region)
        if fault is not None:
            return Outcome("FAILED", fault)
        values = dict(op.definition.params)
        values.update(overrides)
        tpl = op.definition.template
        new_props = tpl.custom_resource_props(values, account, region)
        old_props = deployed.get("props") if deployed else None
        external_id = deployed.get("external_id") if deployed else None
        reason = None
        if deployed is None or (old_props is None and new_props is not None):
            if new_props is not None:
                reason, external_id = ctx.datadog.create(new_props)
        elif old_props is not None and new_props is None:
            reason = ctx.datadog.delete(old_props)
            external_id = None
        elif old_props != new_props:
            reason, external_id = ctx.datadog.update(new_props)
        if reason is not None:
            return Outcome("FAILED", reason)
        return Outcome(
            "SUCCEEDED",
            deployed={"version": op.definition.version, "props": new_props, "external_id": external_id},
        )

    def _apply(self, ss: StackSet, op: Operation, key: tuple[str, str], outcome: Outcome) -> bool:
        """Record an instance's outcome (lock held). True when it failed."""
        res = op.index[key]
        inst = ss.instances.get(key)
        failed = outcome.kind == "FAILED"
        res.status = "FAILED" if failed else "SUCCEEDED"
        res.reason = outcome.reason
        if failed:
            op.failed += 1
        if inst is None:
            return failed
        if op.action == "DELETE":
            if outcome.kind == "SUCCEEDED":
                ss.remove_instance(key)
            elif outcome.reason == SUSPENDED_REASON:
                inst.mark("OUTDATED", "SKIPPED_SUSPENDED_ACCOUNT", SUSPENDED_REASON)
            else:
                inst.mark("INOPERABLE", "INOPERABLE", outcome.reason)
            inst.prev = None
            return failed
        if outcome.kind == "SKIPPED":
            inst.mark("OUTDATED", "SKIPPED_SUSPENDED_ACCOUNT", SUSPENDED_REASON)
        elif outcome.kind == "SUCCEEDED":
            inst.mark("CURRENT", "SUCCEEDED")
            inst.deployed = outcome.deployed
            if inst.stack_id is None:
                inst.stack_id = ss.stack_id_for(*key)
        else:
            inst.mark("OUTDATED", "FAILED", outcome.reason)
            if inst.stack_id is None:
                inst.stack_id = ss.stack_id_for(*key)
        inst.prev = None
        return failed

    def _cancel_accounts(self, ss: StackSet, op: Operation, region: str, accounts: list[str], reason: str) -> None:
        for account in accounts:
            self._cancel(ss, op, (account, region), reason)

    def cancel_rest(self, ss: StackSet, op: Operation, reason: str) -> None:
        for res in op.results:
            if res.status in ("PENDING", "RUNNING"):
                self._cancel(ss, op, (res.account, res.region), reason)

    def _cancel(self, ss: StackSet, op: Operation, key: tuple[str, str], reason: str) -> None:
        res = op.index[key]
        if res.status not in ("PENDING", "RUNNING"):
            return
        res.status, res.reason = "CANCELLED", reason
        inst: Instance | None = ss.instances.get(key)
        if inst is None or inst.last_op != op.id:
            return
        if op.action != "DELETE" and inst.deployed is None:
            inst.mark("OUTDATED", "CANCELLED", reason)
        elif inst.prev is not None:
            inst.mark(*inst.prev)
        else:
            inst.mark("OUTDATED", "CANCELLED", reason)
        inst.prev = None
