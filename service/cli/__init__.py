"""The ``socialid`` command and its sub-commands, the demo included."""
