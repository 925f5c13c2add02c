"""aether hook EVENT: the runtime-neutral use case of each hook event."""
