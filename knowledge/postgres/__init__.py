"""The PostgreSQL store: writes, queries, roll-ups, retention (the only psycopg users of this
layer), and the revisions of its tables.
"""

from pathlib import Path

MIGRATIONS = Path(__file__).parent / "revisions"
