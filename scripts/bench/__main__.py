"""`python -m scripts.bench`: see scripts/bench/run_bench.py."""

import sys

from scripts.bench.run_bench import main

sys.exit(main())
