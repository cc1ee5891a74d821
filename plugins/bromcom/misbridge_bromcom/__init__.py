"""misbridge plugin for bromcom: being written (see issues)."""
