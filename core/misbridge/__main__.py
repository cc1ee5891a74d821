"""``python -m misbridge``: the command line, as the ``misbridge`` program runs it."""

from misbridge.cli import main

main()
