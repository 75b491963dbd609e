"""Composition root: the ``ciudad`` command wires the six layers into processes."""
