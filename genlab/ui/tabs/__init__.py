"""One module per tab of the dashboard: widgets and wiring."""
