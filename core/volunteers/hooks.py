"""Core's hook implementations for volunteers: jobs, schedules, menu items, figures."""
