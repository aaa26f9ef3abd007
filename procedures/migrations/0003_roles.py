"""The three roles, as groups. Permissions are what the model layer checks, so a group here
is a promise the workflow keeps even when someone bypasses the admin's buttons."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_ALL = [
    "view_category",
    "view_procedure",
    "view_leafletversion",
    "view_department",
    "view_glossaryterm",
    "view_feedback",
    "view_workflowevent",
    "view_historicalleafletversion",
]
ROLES = {
    # IR nurses: write and keep leaflets, departments and the word list; send for review.
    "Editors": [
        *VIEW_ALL,
        "add_leafletversion",
        "change_leafletversion",
        "delete_leafletversion",
        "add_procedure",
        "change_procedure",
        "change_department",
        "add_glossaryterm",
        "change_glossaryterm",
    ],
    # Consultant radiologists: approve and publish, withdraw, record a review.
    "Approvers": [*VIEW_ALL, "approve_leafletversion", "withdraw_leafletversion"],
    # Run the service: everything in the portal, plus staff accounts.
    "Administrators": None,
}


def create_roles(apps, schema_editor):
    # Permissions are normally made after migrations; make them now so groups can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        if codenames is None:
            permissions = Permission.objects.filter(
                content_type__app_label="procedures"
            ) | Permission.objects.filter(
                content_type__app_label="auth",
                codename__in=["add_user", "change_user", "view_user", "view_group"],
            )
        else:
            permissions = Permission.objects.filter(
                content_type__app_label="procedures", codename__in=codenames
            )
            missing = set(codenames) - set(permissions.values_list("codename", flat=True))
            assert not missing, f"unknown permissions for {name}: {missing}"
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0002_governance"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
