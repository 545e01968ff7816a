"""Container healthcheck: exit 0 only if GET /health on 127.0.0.1:$PORT says healthy; stdlib only."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request


def check(port: int, timeout: float = 5.0) -> str | None:
    """Return None when /health answers 200 with status "healthy", else what was seen instead."""
    url = f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return f"{url} answered HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return f"{url} failed: {exc}"
    if not isinstance(body, dict) or body.get("status") != "healthy":
        return f"{url} answered {body!r}"
    return None


def main() -> int:
    """Run the check against $PORT (default 8000) and print why it failed."""
    try:
        port = int(os.environ.get("PORT") or 8000)
    except ValueError:
        print(f"unhealthy: PORT={os.environ['PORT']!r} is not a number", file=sys.stderr)
        return 1
    problem = check(port)
    if problem is not None:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
