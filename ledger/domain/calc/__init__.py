"""Pure calculations of the projections: risk share, risk/reward, capitation, outcomes, metrics."""
