"""Service hours: rules per unit, the append-only ledger, corrections, totals and star levels."""
