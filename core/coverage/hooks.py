"""Core's hook implementations for coverage: jobs, schedules, menu items, figures."""
