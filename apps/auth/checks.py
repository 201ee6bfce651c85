"""Deployment checks of identity's secrets (``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def signing_keys_are_not_the_development_default(app_configs, **kwargs):
    """Tokens signed with a key published in the repository could be forged by anyone."""
    published = [name for name in ("SECRET_KEY", "JWT_SECRET") if getattr(settings, name) == settings.DEV_SECRET_KEY]
    if not published:
        return []
    return [
        Error(
            f"{' and '.join(published)}: the development default, published in the repository.",
            hint="Set SECRET_KEY (and optionally JWT_SECRET) to a long random value.",
            id="accounts.E001",
        )
    ]
