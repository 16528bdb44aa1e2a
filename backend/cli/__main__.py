"""``python -m backend.cli``: the ``waymark`` command."""

from backend.cli import main

main()
