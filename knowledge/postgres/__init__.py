"""The PostgreSQL store: schema, writes, queries, roll-ups, retention (the only psycopg users
of this layer).
"""
