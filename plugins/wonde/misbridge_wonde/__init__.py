"""misbridge plugin for wonde: being written (see issues)."""
