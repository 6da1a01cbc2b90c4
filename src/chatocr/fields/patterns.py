"""A field's ``pattern``: checked when the spec is loaded, matched with a time bound.

Python's ``re`` backtracks, so ``(a+)+$`` against thirty a's and an X takes minutes and
cannot be interrupted.  Two guards:

* :func:`check_pattern` refuses, as a spec error, a pattern that does not compile, is
  over ``limits.max_pattern_chars``, or nests a variable-length repeat (or an alternation)
  inside an unbounded one: the shapes that backtrack exponentially.
  Atomic groups ``(?>...)`` and possessive repeats ``a++`` are exempt, since the engine
  never backtracks into them; they are the way to write such a pattern safely.
* :func:`fullmatch` runs the pattern on the ``regex`` engine with a timeout, so even a
  pattern that passes the check (polynomial cases such as ``\\d*\\d*\\d*x``) costs at
  most ``limits.pattern_timeout_s`` per value; a value that runs out of time does not match.
"""

from __future__ import annotations

import functools
import importlib
import logging
import re
from typing import Any

import regex

from chatocr.errors import SpecError

# The parser behind ``re`` (Python 3.11+), to look at a pattern's shape; the typing stubs do not cover it.
sre_parse: Any = importlib.import_module("re._parser")
sre_constants: Any = importlib.import_module("re._constants")

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 0.05

_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_HINT = (
    "rewrite it without a repeat inside a repeat (e.g. '[ab]+' for '(a|b)+'), or make the inner part atomic: (?>...)"
)


def check_pattern(pattern: str, field: str, max_chars: int = 300) -> None:
    """Raise SpecError unless ``pattern`` compiles and has no exponential-backtracking shape."""
    from chatocr.errors import SpecLimitError

    if len(pattern) > max_chars:
        raise SpecLimitError(
            f"field {field!r}: its pattern is {len(pattern)} characters, over the {max_chars} limit",
            hint="raise limits.max_pattern_chars if the schema is trusted",
        )
    try:
        re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise SpecError(f"field {field!r}: the pattern {pattern!r} is not a valid regular expression ({exc})") from None
    if _risky(parsed, inside_unbounded=False):
        raise SpecError(
            f"field {field!r}: the pattern {pattern!r} can take exponential time (a repeat inside a repeat)",
            hint=_HINT,
        )


def _risky(items: Any, *, inside_unbounded: bool) -> bool:
    """True when a variable repeat or an alternation sits inside an unbounded repeat."""
    for op, av in items:
        if op in _REPEATS:
            low, high, body = av
            variable = high != low
            if inside_unbounded and variable:
                return True
            unbounded = high == sre_constants.MAXREPEAT or high > 1000
            if _risky(body, inside_unbounded=inside_unbounded or unbounded):
                return True
        elif op is sre_constants.BRANCH:
            if inside_unbounded:
                return True
            if any(_risky(branch, inside_unbounded=False) for branch in av[1]):
                return True
        elif op is sre_constants.SUBPATTERN:
            if _risky(av[-1], inside_unbounded=inside_unbounded):
                return True
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            if _risky(av[1], inside_unbounded=inside_unbounded):
                return True
        elif op is sre_constants.GROUPREF_EXISTS:
            if inside_unbounded:
                return True
            if any(part is not None and _risky(part, inside_unbounded=False) for part in av[1:]):
                return True
        # ATOMIC_GROUP and POSSESSIVE_REPEAT: never backtracked into, so their insides are safe.
    return False


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    return regex.compile(pattern, flags=regex.VERSION0)


def fullmatch(pattern: str, value: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool:
    """Whether the whole ``value`` matches; False (logged) when matching runs past ``timeout_s``."""
    try:
        return _compiled(pattern).fullmatch(value, timeout=timeout_s) is not None
    except TimeoutError:
        log.warning(
            "a field pattern ran past %.3fs on a %d-character value; treated as no match", timeout_s, len(value)
        )
        return False
