"""container-harness: a pytest plugin that builds, inspects, runs, measures and load-tests container images."""
