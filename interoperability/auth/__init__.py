"""Who may do what: API keys checked at the door, tenants and scopes per request."""
