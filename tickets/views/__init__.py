"""HTML pages of the rep's workspace: logging calls, working tickets, finding them."""
