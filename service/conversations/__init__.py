"""Conversations worked by reps: ownership, queues, shifts and hand-offs."""
