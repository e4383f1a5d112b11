import sys

import conformance._self  # noqa: F401  (first: a folder named conformance must not shadow us)
from conformance.cli import main

sys.exit(main())
