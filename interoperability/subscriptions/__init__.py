"""NGSI-LD subscriptions: the model, its routes, the notifier and delivery."""
