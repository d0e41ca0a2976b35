"""Clinics, departments, doctors and patients."""
