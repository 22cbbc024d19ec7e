"""Core's hook implementations for this area."""
