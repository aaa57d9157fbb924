"""Workflows: documents through their states, queue jobs, run reports, review station, catalog."""
