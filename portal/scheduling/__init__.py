"""Weekly hours, time off and the slot engine."""
