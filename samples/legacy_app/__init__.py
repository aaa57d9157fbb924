"""A sample legacy web system (住民記録-style screens) for bots to key into: tests, benchmarks, demo."""
