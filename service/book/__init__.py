"""The customer book: customers, their history, import, the matching index and the audit trail."""
