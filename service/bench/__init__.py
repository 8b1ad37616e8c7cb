"""``socialid bench``: benchmarks that print figures, the quality bench and its synthetic data."""
