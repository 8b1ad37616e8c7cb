"""Pure channel adapters: provider payload to typed message. No I/O, no Redis."""
