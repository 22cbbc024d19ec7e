"""Reports of crime clues, public opinion and hazards from volunteers, routed and answered."""
