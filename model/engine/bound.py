"""Kernels called from Python through their compiled entry point, once the types of their arguments are known.

At every call, numba's dispatcher works out the type of each argument to choose the compiled version to run. The
engine's kernels take named tuples of many arrays (the store's 29 columns, the ledger's 20 arrays), which numba
types in Python, element by element: 4-43 µs a call, measured, about 128 µs of the 900 of an ``x_platform`` day
(six kernel calls). The types are fixed when the model is built: the columns' and queues' dtypes are set in code,
and a grown store's new arrays have the same types. So a :class:`BoundKernel` lets the dispatcher choose (and
compile, or load from the cache) on its first call and calls the chosen version's entry point afterwards, which
still unboxes every array, as numba's own call does.

The entry point does not check the arguments' types (an array of another dimension would be read wrongly), so:
each model binds its own kernels (``bound``), and with the environment variable ``TIPLINE_CHECK_KERNELS=1`` (set by
the test suite) every call checks its arguments' types against the bound version and raises ``TypeError`` if they
differ. Typing every argument in Python made a run five times as long, so the check first compares each argument's
fingerprint (numba's own fast test, in C, of whether two values have the same type) with the binding call's, and
types in Python only the arguments whose fingerprint differs (a typed list has none).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from numba.core.dispatcher import Dispatcher

try:
    from numba._dispatcher import compute_fingerprint
except ImportError:   # numba's private C helper: without it, the check types every argument
    def compute_fingerprint(value: Any) -> Any:
        raise NotImplementedError

#: Check every bound call's argument types (the tests set it).
CHECK = os.environ.get("TIPLINE_CHECK_KERNELS") == "1"


class BoundKernel:
    """A compiled kernel (a numba dispatcher) that keeps, after its first call, the version that call chose."""

    def __init__(self, kernel: Dispatcher) -> None:
        self.kernel = kernel
        self.signature: tuple[Any, ...] | None = None
        self._entry: Callable[..., Any] | None = None
        self._prints: list[Any] = []   # the binding call's arguments' fingerprints

    def __call__(self, *args: Any) -> Any:
        entry = self._entry
        if entry is None:
            return self._bind(args)
        if CHECK:
            self._check(args)
        return entry(*args)

    def _types(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(self.kernel.typeof_pyval(arg) for arg in args)

    def _bind(self, args: tuple[Any, ...]) -> Any:
        result = self.kernel(*args)
        signature = self._types(args)
        overload = self.kernel.overloads.get(signature)
        if overload is not None:   # otherwise numba converted an argument: keep calling through the dispatcher
            self.signature, self._entry = signature, overload.entry_point
            self._prints = [_fingerprint(arg) for arg in args]
        return result

    def _check(self, args: tuple[Any, ...]) -> None:
        signature = self.signature or ()
        if len(args) != len(signature):
            raise TypeError(f"{self.kernel.__name__}: {len(args)} arguments, bound with {len(signature)}")
        changed = [f"argument {i}: {was} became {now}"
                   for i, (arg, was, bound_print) in enumerate(zip(args, signature, self._prints, strict=True))
                   if (bound_print is None or _fingerprint(arg) != bound_print)
                   and (now := self.kernel.typeof_pyval(arg)) != was]
        if changed:
            raise TypeError(f"{self.kernel.__name__}: the arguments' types changed after binding ({'; '.join(changed)})")


def _fingerprint(value: Any) -> Any:
    """numba's fingerprint of `value`'s type (equal fingerprints, equal types), or None if it has none."""
    try:
        return compute_fingerprint(value)
    except (NotImplementedError, ValueError):
        return None


def bound(kernel: Dispatcher) -> BoundKernel:
    """`kernel`, to be called with arguments of the same types at every call (see the module's doc)."""
    return BoundKernel(kernel)
