"""`python -m container_harness`: the same command as the `container-harness` console script."""

import sys

from container_harness.cli import main

sys.exit(main())
