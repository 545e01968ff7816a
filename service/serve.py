"""The image's entry point: gunicorn, with its double halt turned into its exit status.

When every worker fails to boot at once, gunicorn 27 reaps the second failure while halting for the first and
lets HaltServer escape as a traceback; the status (3: no valid model) is what operators need, in one line.
"""

from __future__ import annotations

import sys

from gunicorn.app.wsgiapp import run
from gunicorn.errors import HaltServer


def main() -> int:
    """Run gunicorn with this process's arguments; gunicorn exits by itself unless it halts twice."""
    try:
        run()
    except HaltServer as exc:
        print(f"gunicorn halted: {exc.reason}", file=sys.stderr)
        return int(exc.exit_status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
