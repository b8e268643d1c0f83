from django.contrib.auth.hashers import Argon2PasswordHasher


class PortalArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id at the OWASP minimum: 19 MiB, two passes, one lane.

    Service-account passwords carry 256 bits of entropy, so the hash exists to keep
    a stolen database from yielding usable credentials, not to slow guessing of a
    weak password. The OWASP floor keeps that promise while letting the token
    endpoint verify a password in a few milliseconds.
    """

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
