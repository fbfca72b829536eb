# Fixture: the parts of the gitea recipe the fake abra reads.
