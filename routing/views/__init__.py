"""HTML pages of routing: rules (admins), department queues, follow-ups, explanations."""
