"""The reference project bench/load.py measures the portal against: django-oauth-toolkit 3.x.

The smallest project that issues password-grant tokens with django-oauth-toolkit (DOT)
and checks them on a protected view, configured where it matters as the portal is:
PostgreSQL with persistent connections, argon2id at the portal's parameters, 24-hour
tokens, DEBUG off. Nothing here imports the portal.
"""
