"""The image's entry point: gunicorn on the app factory, with distinct exit statuses for what stops it.

Exit statuses: 78 (EX_CONFIG) when an environment variable holds a value the service cannot use (the
gunicorn master checks settings before any worker starts); 3 (gunicorn's "worker failed to boot") when no
valid model set exists. When every worker fails to boot at once, gunicorn 27 reaps the second failure while
halting for the first and lets HaltServer escape as a traceback; its status is what operators need, in one line.
"""

from __future__ import annotations

import sys
from typing import Final

from gunicorn.app.wsgiapp import run
from gunicorn.arbiter import Arbiter
from gunicorn.errors import HaltServer

EXIT_BAD_SETTINGS: Final[int] = 78
EXIT_NO_MODEL: Final[int] = Arbiter.WORKER_BOOT_ERROR
APP_FACTORY: Final[str] = "service.app:create_app()"


def main(argv: list[str]) -> int:
    """Run gunicorn with `argv` (the image's CMD names the app factory, APP_FACTORY)."""
    sys.argv = argv
    try:
        run()
    except HaltServer as exc:
        print(f"gunicorn halted: {exc.reason}", file=sys.stderr)
        return int(exc.exit_status)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
