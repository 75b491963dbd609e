"""Storage of the acquisition layer: the device registry, the command queue and their
notifications (the only psycopg users of this layer), and their tables' revisions."""

from pathlib import Path

MIGRATIONS = Path(__file__).parent / "revisions"
