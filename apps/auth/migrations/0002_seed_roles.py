"""Seed the contract's permissions and roles. Idempotent: existing rows are completed, not duplicated."""

from django.db import migrations


def seed(apps, schema_editor):
    from apps.auth.roles import PERMISSIONS, ROLES

    db = schema_editor.connection.alias
    Permission = apps.get_model("accounts", "Permission")
    Role = apps.get_model("accounts", "Role")
    by_name = {}
    for name, description in PERMISSIONS.items():
        permission, _ = Permission.objects.using(db).get_or_create(name=name, defaults={"description": description})
        by_name[name] = permission
    for role_name, (description, names) in ROLES.items():
        role, created = Role.objects.using(db).get_or_create(name=role_name, defaults={"description": description})
        if created:
            role.permissions.set([by_name[n] for n in names])
        elif role_name == "ADMIN":
            role.permissions.add(*by_name.values())


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
