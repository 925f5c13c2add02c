"""Use cases. Each takes plain arguments, returns a result object and never prints."""
