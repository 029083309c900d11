"""A real workload's finished trials: reading them (``readers``) into one table (``table``)."""
