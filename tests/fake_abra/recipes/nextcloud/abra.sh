# Fixture: the parts of the nextcloud recipe the fake abra reads.
