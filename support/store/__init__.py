"""Storage shared by every layer: the schema lock and the audit log (the only psycopg users of
support).
"""
