"""The yearly refresh service (placeholder until the scheduler issue lands)."""
