"""routing a spawn: resolve, prove through the proxy, record; a worker's environment and --exec."""
