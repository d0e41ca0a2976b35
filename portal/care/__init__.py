"""Care: a doctor's patients, the care-team rule and the patient's own profile."""
