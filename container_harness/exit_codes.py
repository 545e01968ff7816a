"""The exit-code contract of every `container-harness` command, so CI can tell a regression from a fault."""

from __future__ import annotations

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_BAD_INPUT = 2
EXIT_HARNESS_FAILED = 3

MEANINGS = {
    EXIT_OK: "fine: nothing regressed",
    EXIT_REGRESSION: "a judged regression, and nothing else",
    EXIT_BAD_INPUT: "bad input or usage, or a comparison that cannot be made fairly",
    EXIT_HARNESS_FAILED: (
        "the harness itself failed or was stopped (an internal error, a missing extra, an engine fault, "
        "Ctrl-C or SIGTERM)"
    ),
}
