"""Per-unit configuration with a valid-from date: local rules that are not constants."""
