"""Sample forms, templates, a sample legacy system, sample workflows and catalog (demo, tests, benchmarks)."""
