"""Benchmarks that print ratios; not part of the test run (see the Makefile's `bench`)."""
