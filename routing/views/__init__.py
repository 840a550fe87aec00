"""HTML pages of routing: rules (admins) and the explanation of a ticket's routing."""
