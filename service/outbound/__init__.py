"""Replies out: one small sender per channel behind one narrow interface (``senders``),
the pure requests they make (``calls``, ``mail``), and the dispatch that sends a
recorded reply and logs what became of it (``dispatch``)."""
