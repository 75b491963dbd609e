"""JSON-LD: terms of contexts, their resolution, and the middleware applying them."""
