"""UN/LOCODE: the place codes milestones and shipments carry, searched and checked."""
