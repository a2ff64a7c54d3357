"""`python -m loaders …`: the same command line as the `windfarm-elt` entry point."""

from loaders.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
