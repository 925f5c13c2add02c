"""Model profiles and routing: which model a worker of a caste gets for a task, and why."""
