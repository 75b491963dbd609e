"""Storage of the API's own tables: API keys, request statistics, subscriptions and their
notification queues.
"""
