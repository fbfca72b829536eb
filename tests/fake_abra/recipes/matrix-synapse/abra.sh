# Fixture: the parts of the matrix-synapse recipe the fake abra reads.
