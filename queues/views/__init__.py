"""HTML pages of the queues: department queues, their items, who was told, follow-ups."""
