"""Core's hook implementations for recruitment: jobs, schedules, menu items, figures."""
