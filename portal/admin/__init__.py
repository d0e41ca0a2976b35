"""The admin dashboard and onboarding pages."""
