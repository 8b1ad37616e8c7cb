"""Pure matching code: normalise, extract, compare, score. No I/O, no Redis."""
