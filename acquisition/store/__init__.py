"""Storage of the acquisition layer: the device registry, the command queue and their
notifications (the only psycopg users of this layer).
"""
