"""Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).

Django's defaults (100 MiB, 2 passes, 8 lanes) cost ~150 ms of CPU per login on a 2-core web
node (bench/README.md); these parameters cost ~25 ms while staying within OWASP's guidance.
Existing hashes keep verifying (their parameters are stored in them) and are upgraded at the
next successful login, since Django re-hashes when the parameters differ.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2Hasher(Argon2PasswordHasher):
    memory_cost = 19 * 1024
    time_cost = 2
    parallelism = 1
