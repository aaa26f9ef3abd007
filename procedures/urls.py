from django.urls import path

from . import feedback, print_views, views

app_name = "procedures"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("search/", views.search, name="search"),
    path("glossary/", views.glossary, name="glossary"),
    # /procedures/…
    path("procedures/", views.procedure_list, name="list"),
    path("procedures/category/<slug:slug>/", views.category, name="category"),
    path("procedures/<slug:slug>/", views.leaflet, name="leaflet"),
    path("procedures/<slug:slug>/v/<int:number>/", views.leaflet_version, name="leaflet_version"),
    path("procedures/<slug:slug>/print/", views.leaflet_print, name="leaflet_print"),
    path("procedures/<slug:slug>/feedback/", feedback.leave_feedback, name="feedback"),
    path("procedures/<slug:slug>/feedback/<str:token>/", feedback.comment, name="feedback_comment"),
    # /departments/…
    path("departments/", views.department_list, name="departments"),
    path("departments/<slug:slug>/", views.department, name="department"),
    # Printing for clinics: /procedures/<slug>/leaflet.pdf, …/appointment/, /check/…, /print/pack/
    path("procedures/<slug:slug>/leaflet.pdf", print_views.leaflet_pdf, name="leaflet_pdf"),
    path("procedures/<slug:slug>/appointment/", print_views.appointment, name="appointment"),
    path("check/<str:resource>/<int:number>/", print_views.check, name="check"),
    path("print/pack/", print_views.pack, name="pack"),
]
