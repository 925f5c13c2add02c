"""aether doctor: the colony's checks and the report."""
