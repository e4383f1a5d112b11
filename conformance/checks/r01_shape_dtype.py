"""R1: the output has the input's shape and dtype (shape-dtype), and a call's result is not
modified by later calls (results-kept), on small tensors and, for results-kept, on the CNN-sized
ones users run (checks/usersizes.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.adapters.base import Adapter
from conformance.adapters.callable import output_type_finding
from conformance.checks import calling, usersizes
from conformance.checks.assertions import ROOT_DTYPE, ROOT_SHAPE, describe_difference
from conformance.checks.base import CheckContext, CheckPassed, register
from conformance.checks.inputs import SHAPES, bits, nonzero_values
from conformance.errors import AdapterError, CheckFailed

EMPTY_SHAPES = ((0, 4, 3, 3), (2, 0, 3, 3), (2, 4, 0, 3), (2, 4, 3, 0))


@register("shape-dtype", requirement="R1", title="Output has the input's shape and dtype")
def shape_dtype(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    rng = ctx.rng()
    cases = 0
    empty_alias: set[bool] = set()
    #: input dtype -> {output dtype: [modes]}: every mismatch is reported in one message
    wrong: dict[str, dict[str, set[str]]] = {}
    for dtype in ctx.dtypes:
        for shape in SHAPES + EMPTY_SHAPES:
            for p in (0.0, 0.5, 1.0):
                for training in (True, False):
                    x = nonzero_values(rng, shape, dtype)
                    where = f"shape={shape}, {dtype}, p={p}, training={training}"
                    try:
                        f = ctx.forward(x, p, training=training)
                    except AdapterError:
                        if training and p == 1.0:
                            continue  # raising at p = 1 is R7's failure (p-one), not R1's
                        raise
                    if f.y.shape != x.shape:
                        raise CheckFailed(
                            f"shape {f.y.shape} != input shape {x.shape} ({where})",
                            root_cause=ROOT_SHAPE,
                        )
                    if f.y.dtype != x.dtype:
                        mode = "training" if training else "eval"
                        wrong.setdefault(str(x.dtype), {}).setdefault(
                            str(f.y.dtype), set()).add(mode)
                    if x.size == 0 and training and p == 0.5:
                        empty_alias.add(f.aliased)
                    cases += 1
    findings = output_type_finding(adapter)  # a torch tensor returned for NumPy, say
    if empty_alias:
        findings["empty_return"] = (
            "returns the input object" if empty_alias == {True} else "returns a new array"
        )
    if wrong:
        parts = [
            f"{i} input -> {o} output ({' and '.join(sorted(modes))})"
            for i, outs in wrong.items() for o, modes in outs.items()
        ]
        raise CheckFailed(
            f"output dtype differs from the input's: {'; '.join(parts)}, over {cases} calls "
            "(empty tensors included); other checks judge their own property after casting "
            "back and name this as the root cause of what they cannot assess",
            findings=findings, root_cause=ROOT_DTYPE,
        )
    return CheckPassed(f"{cases} calls, empty tensors included: shape and dtype preserved",
                       findings)


def _native_call(
    adapter: Adapter, x: np.ndarray, p: float, training: bool, memory: str = "contiguous"
) -> Any:
    native = adapter.to_native(calling._lay_out(_layout_in(adapter, x), memory))
    return adapter.dropout2d(native, p, training, False)


def _layout_in(adapter: Adapter, x: np.ndarray) -> np.ndarray:
    return np.moveaxis(x, -3, -1) if adapter.layout == "NHWC" else x


def _read(adapter: Adapter, out: Any) -> np.ndarray:
    y = np.asarray(adapter.to_numpy(out))
    return np.moveaxis(y, -1, -3) if adapter.layout == "NHWC" and y.ndim >= 3 else y


@register("results-kept", requirement="R1", title="A call's result is not modified by later calls")
def results_kept(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    """Keep every (not in-place) result as the implementation returned it, make more calls,
    then read the kept results again: each must be bit for bit what it was.  An
    implementation that writes every result into one reused buffer fails (a user who keeps two
    outputs would get two copies of the last one)."""
    rng = ctx.rng()
    shape = SHAPES[0]
    dtype = ctx.dtypes[0]
    # Three training calls at p = 0.5 on different inputs, one on the same input again, then
    # eval mode and p = 0: the results of the first calls must survive all later ones.
    calls = [(0.5, True), (0.5, True), (0.5, True), (0.5, True), (0.3, False), (0.0, True)]
    inputs = [nonzero_values(rng, shape, dtype) for _ in range(3)]
    kept: list[tuple[str, Any, np.ndarray]] = []
    for i, (p, training) in enumerate(calls):
        x = inputs[min(i, 2)] if i != 3 else inputs[0]
        where = f"call {i + 1}: p={p}, training={training}, {dtype}, shape={shape}"
        try:
            out = _native_call(adapter, x, p, training)
            snapshot = np.array(_read(adapter, out), copy=True)
        except (Exception, SystemExit) as exc:
            raise AdapterError(f"{type(exc).__name__}: {exc} ({where})") from exc
        kept.append((where, out, snapshot))
    changed = []
    for i, (where, out, snapshot) in enumerate(kept):
        try:
            now = _read(adapter, out)
        except (Exception, SystemExit) as exc:
            raise AdapterError(f"reading a kept result again raised {exc!r} ({where})") from exc
        if now.shape != snapshot.shape or (bits(now) != bits(snapshot)).any():
            changed.append((i, now))
    if changed:
        i, now = changed[0]
        where, _, snapshot = kept[i]
        later = [j for j in range(i + 1, len(kept)) if kept[j][2].shape == now.shape
                 and bits(kept[j][2]).tobytes() == bits(now).tobytes()]
        if now.shape != snapshot.shape:
            looks = f"it now has shape {now.shape}"
        elif later:
            looks = (f"it now holds the result of call {later[0] + 1} (one output buffer "
                     "reused across calls)")
        else:
            looks = "it is now " + describe_difference(actual=now, expected=snapshot)
        raise CheckFailed(
            f"{len(changed)} of {len(kept)} kept results changed after later calls; first: "
            f"the result of {where} is no longer what was returned: {looks}"
        )
    large = _large_results_kept(adapter, ctx)
    return CheckPassed(
        f"{len(kept)} results (training, eval and p=0) kept bit for bit across later calls, "
        f"and {large}"
    )


def _call(adapter: Adapter, x: np.ndarray, where: str, memory: str) -> tuple[Any, np.ndarray]:
    try:
        out = _native_call(adapter, x, 0.5, True, memory)
        return out, np.array(_read(adapter, out), copy=True)
    except (Exception, SystemExit) as exc:
        raise AdapterError(f"{type(exc).__name__}: {exc} ({where})") from exc


def _large_results_kept(adapter: Adapter, ctx: CheckContext) -> str:
    """The largest tensor in every dtype (layouts in turn), each result kept; then each again,
    a later call of the same shape and dtype (a workspace reused by size, or by size and
    dtype, is overwritten by it); then every kept result read again.  The largest only: a
    buffer reused from some size on is reused at the largest (the other sizes would add calls,
    not faults)."""
    rng = ctx.rng(1)
    large = [c for c in usersizes.large_cases(ctx.dtypes) if c.largest]
    kept = []
    for case in large:
        where = f"p=0.5, training=True, {case.label()}"
        kept.append((where, *_call(adapter, usersizes.large_input(rng, case)[0], where,
                                   case.memory)))
    again = large
    for case in again:
        where = f"p=0.5, training=True, {case.label()} (again)"
        _call(adapter, usersizes.large_input(rng, case)[0], where, case.memory)
    changed = []
    for where, out, snapshot in kept:
        try:
            now = _read(adapter, out)
        except (Exception, SystemExit) as exc:
            raise AdapterError(f"reading a kept result again raised {exc!r} ({where})") from exc
        if now.shape != snapshot.shape or (bits(now) != bits(snapshot)).any():
            changed.append((where, now, snapshot))
    if changed:
        where, now, snapshot = changed[0]
        looks = (f"it now has shape {now.shape}" if now.shape != snapshot.shape else
                 f"{int((bits(now) != bits(snapshot)).sum())} of {now.size} elements differ")
        raise CheckFailed(
            f"{len(changed)} of {len(kept)} kept results of the largest tensor changed after "
            f"later calls of the same shape and dtype; first: the result of "
            f"{where} is no longer what was returned: {looks} (an output buffer reused by "
            "later calls of the same size)"
        )
    return (f"{len(kept)} results of the largest tensor ({large[0].shape}, up to "
            f"{max(c.nbytes for c in large) / 1e6:.1f} MB) in every dtype kept across "
            f"{len(again)} more calls of the same shapes and dtypes")
