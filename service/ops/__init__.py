"""What operators read: structured logs, metrics, redaction of personal data, heap tuning."""
