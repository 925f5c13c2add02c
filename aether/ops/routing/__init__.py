"""the routing profile and the circuit breakers."""
