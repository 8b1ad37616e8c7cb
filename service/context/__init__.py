"""The context card: what a rep must know before answering, derived from the history.

Pure functions over a customer and their events: nothing here is stored, so the card
can never disagree with the history it summarises.
"""

from service.context.card import build_card
from service.schemas.context_card import ContextCard, Flag

__all__ = ["ContextCard", "Flag", "build_card"]
