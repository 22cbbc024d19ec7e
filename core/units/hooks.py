"""Core's hook implementations for units: jobs, schedules, menu items, figures."""
