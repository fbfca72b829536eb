# Fixture: the parts of the hedgedoc recipe the fake abra reads.
