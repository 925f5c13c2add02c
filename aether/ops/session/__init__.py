"""agent sessions and their boundaries: pause, resume, the handoff, sessions seen and ended."""
