"""Storage of the API's own tables: API keys, request statistics, subscriptions and their
notification queues (the only psycopg users of this layer), and their tables' revisions.
"""

from pathlib import Path

MIGRATIONS = Path(__file__).parent / "revisions"
