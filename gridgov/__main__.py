"""``python -m gridgov``: the same as the ``gridgov`` command."""

from gridgov.cli import main

main()
