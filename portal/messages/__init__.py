"""Messages: the outbox that services write to, and delivery after commit."""
