"""Secrets, field encryption, blind indexes and masking."""
