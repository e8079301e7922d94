"""Named checks for the conformance scripts that a tap test runs (test/conformance/*.test.ts).

Each check prints one JSON line on stdout, {"check", "ok", "detail"?} or {"check", "skip"}, and
the tap test turns each into its own assertion, so a failure names the call that broke. A failed
check does not stop the script: later checks that need its result say so and fail too. The last
line is {"done": N}; a script that dies before it is a failure of its own.
"""

import json
import sys
import traceback

_failed = set()
_skipped = {}
_count = 0


class Unmet(Exception):
    """A check needs the result of another check that failed."""


def _emit(line):
    print(json.dumps(line), flush=True)


def check(name, *, needs=()):
    """Decorator: runs the function now as check `name`; returns its result (None when it failed).

    The function passes by returning; an AssertionError (the message says what was expected and
    what came) or any other exception (a client error, a timeout) fails it.
    """

    def run(fn):
        global _count
        _count += 1
        skipped = [n for n in needs if n in _skipped]
        if skipped:
            _skipped[name] = _skipped[skipped[0]]
            _emit({"check": name, "skip": _skipped[name]})
            return None
        unmet = [n for n in needs if n in _failed]
        try:
            if unmet:
                raise Unmet(f"not run: needs {', '.join(repr(n) for n in unmet)}, which failed")
            result = fn()
        except Exception as err:  # noqa: BLE001 - every failure is reported under the check's name
            _failed.add(name)
            detail = str(err) if isinstance(err, (AssertionError, Unmet)) else f"{type(err).__name__}: {err}"
            if not isinstance(err, (AssertionError, Unmet)):
                detail += "\n" + "".join(traceback.format_exception(err)[-3:])
            _emit({"check": name, "ok": False, "detail": detail[:4000]})
            return None
        _emit({"check": name, "ok": True})
        return result

    return run


def skip(name, reason):
    """A check that cannot run here (its data is absent), with the reason."""
    global _count
    _count += 1
    _skipped[name] = reason
    _emit({"check": name, "skip": reason})


def expect(condition, what, got=None):
    """Asserts `condition`; `what` is the expectation, `got` what came instead."""
    if not condition:
        raise AssertionError(what if got is None else f"{what} (got {got!r})")


def done():
    _emit({"done": _count})
    sys.exit(0)
