"""The city's boards: the dashboard page, the KPI board, service levels."""
