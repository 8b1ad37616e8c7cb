"""Resolution: from a sender or a rep's query to an account holder, the links people make,
and the match model's stored parameters."""
