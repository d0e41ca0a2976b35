"""Appointments: booking, cancelling, rescheduling."""
