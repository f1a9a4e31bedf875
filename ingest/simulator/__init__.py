"""A simulated e-rickshaw fleet behind a mock of the Intellicar Standard API."""
