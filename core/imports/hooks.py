"""Core's hook implementations for imports: jobs, schedules, menu items, figures."""
