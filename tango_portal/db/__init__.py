"""Database backends: Django's own, with what this service changes about them."""
