# Fixture: the parts of the keycloak recipe the fake abra reads.
