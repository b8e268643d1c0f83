"""Argon2id at the portal's parameters, so that both systems pay the same for one verification."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class PeerArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id, 19 MiB, two passes, one lane: the parameters of the portal's hasher."""

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
