"""Filed returns: render the returns' content (``projections.returns``) in the three
formats, file them (``GenerateReturn`` with the bytes), read them back, sign them off,
and check them against the chain. Used by both ``api`` and ``scheduler``."""
