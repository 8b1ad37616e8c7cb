"""Durable ingestion: deliveries stored before they are acknowledged, then processed."""
