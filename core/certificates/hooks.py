"""Core's hook implementations for certificates: jobs, schedules, menu items, figures."""
