"""workers after their spawn: reports, the table, costs, usage, orphans and respawn."""
