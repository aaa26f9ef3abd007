"""Search: stored search text and vector on Procedure, pg_trgm, and the GIN indexes.

The extension and indexes are PostgreSQL-only. TrigramExtension does nothing on other
databases by itself; the indexes are made by SQL here rather than Meta.indexes, because SQLite
would otherwise try to build a GIN index whenever it rebuilds the table.
"""

import django.contrib.postgres.search
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

INDEXES = {
    # search.search(): `search_document @@ websearch_to_tsquery(...)`.
    "procedure_search_document": "USING gin (search_document)",
    # search.search() and suggest(): `title %> query`, `lay_names %> query` (misspellings).
    "procedure_title_trgm": "USING gin (title gin_trgm_ops)",
    "procedure_lay_names_trgm": "USING gin (lay_names gin_trgm_ops)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("procedures", "Procedure")._meta.db_table)
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def index_existing(apps, schema_editor):
    from procedures.search import index_procedures

    db = schema_editor.connection.alias
    index_procedures(
        apps.get_model("procedures", "Procedure").objects.using(db).all(),
        apps.get_model("procedures", "LeafletVersion").objects.using(db).all(),
    )


class Migration(migrations.Migration):
    dependencies = [
        # 0005 follows 0007 only because 0007 was already the latest when this was written;
        # it needs nothing from it.
        ("procedures", "0007_library_generation"),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddField(
            model_name="procedure",
            name="search_document",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="procedure",
            name="search_text",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(create_indexes, drop_indexes),
        migrations.RunPython(index_existing, migrations.RunPython.noop),
    ]
