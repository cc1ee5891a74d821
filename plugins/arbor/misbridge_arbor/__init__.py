"""misbridge plugin for arbor: being written (see issues)."""
