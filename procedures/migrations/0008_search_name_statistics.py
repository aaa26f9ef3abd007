"""Fewer planner statistics on the procedure names, so that planning a search stays cheap.

To estimate how many rows `title %> 'query'` (pg_trgm) will match, PostgreSQL computes the
word similarity of the query with every value in the column's statistics histogram, once for
each such condition in the statement: 100 values each by default, about 10 ms of planning for
one search at 10,000 leaflets. With 10 values, planning takes about 1 ms. The rougher
estimate does not matter here: search.py makes the plan use the indexes whatever it is, and
no query here asks for a range of names, which is what the histogram is for. PostgreSQL only.
"""

from django.db import migrations

NAME_COLUMNS = ("title", "lay_names")
FEWER = 10  # values in the histogram; PostgreSQL's default statistics target is 100


def set_statistics(target):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(apps.get_model("procedures", "Procedure")._meta.db_table)
        columns = ", ".join(
            f"ALTER COLUMN {schema_editor.quote_name(name)} SET STATISTICS {target}" for name in NAME_COLUMNS
        )
        schema_editor.execute(f"ALTER TABLE {table} {columns}")
        schema_editor.execute(f"ANALYZE {table}")

    return run


class Migration(migrations.Migration):
    dependencies = [("procedures", "0006_translations")]

    operations = [migrations.RunPython(set_statistics(FEWER), set_statistics(-1))]
