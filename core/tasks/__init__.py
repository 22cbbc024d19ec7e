"""Tasks, their decomposition to lower units, shifts at points, and who is assigned to them."""
