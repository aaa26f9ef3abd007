from django.apps import AppConfig


class ProceduresConfig(AppConfig):
    name = "procedures"
    verbose_name = "Patient leaflets"

    def ready(self):
        # Here rather than in urls.py so that management commands (load_content) bump the
        # page-cache generation too.
        from . import caching

        caching.connect_signals()
