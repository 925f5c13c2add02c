"""Colony state: the current schema, the store (lock + transaction) and the migration chain."""
