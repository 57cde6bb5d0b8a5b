"""What only the tests, the demo and the benchmark use: a local package index."""
