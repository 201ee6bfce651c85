from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from ecommerce.db import alias_for


class Command(BaseCommand):
    help = "Create the demo ADMIN user if it does not exist (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@example.com", help="default: admin@example.com")
        parser.add_argument("--password", default="admin12345", help="at least 8 characters; default: the demo's")
        parser.add_argument("--name", default="Demo Admin")

    def handle(self, *args, email, password, name, **options):
        # Refused here rather than stored: a mistyped ADMIN_EMAIL or a short ADMIN_PASSWORD used
        # to create an administrator nobody can log in as, and the migrate job still succeeded.
        email = email.strip().lower()
        try:
            validate_email(email)
            validate_password(password)
        except ValidationError as exc:
            raise CommandError(f"{email!r}: {' '.join(exc.messages)}")
        users = get_user_model().objects
        existing = users.select_related("role").filter(email=email).first()
        if existing is not None:
            if existing.is_active and existing.is_admin:
                self.stdout.write(f"Admin {email} already exists.")
            else:
                # Said, not refused: the migrate job runs this at every deployment, and the first
                # admin may have been demoted on purpose since.
                self.stderr.write(f"{email} exists but is not an active ADMIN: left as it is.")
            return
        with transaction.atomic(using=alias_for("auth")):
            users.create_superuser(email=email, password=password, name=name)
        # The email only: this output ends up in job logs that CI archives.
        self.stdout.write(self.style.SUCCESS(f"Created ADMIN {email}"))
