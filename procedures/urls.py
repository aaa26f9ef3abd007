from django.urls import path

from . import views

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
    # /departments/…
    path("departments/", views.department_list, name="departments"),
    path("departments/<slug:slug>/", views.department, name="department"),
]
