"""`python -m benchmarks`: see `benchmarks/__init__.py`."""

import sys

from .run import main

sys.exit(main())
