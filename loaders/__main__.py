"""`python -m loaders …`: the same command line as the `windfarm-elt` entry point."""

from loaders.cli import main

raise SystemExit(main())
