"""`python -m orrery.cli` is the `orrery` command (as is `python -m orrery`)."""

from orrery.cli import main

main()
