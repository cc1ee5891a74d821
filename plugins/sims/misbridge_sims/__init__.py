"""misbridge plugin for sims: being written (see issues)."""
