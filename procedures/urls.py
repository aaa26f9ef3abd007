from django.urls import path
from django.views.decorators.cache import never_cache

from . import feedback, formats, prescriptions, print_views, views
from .caching import public_page

app_name = "procedures"

# public_page: the same for every patient, so cached under the library generation and
# marked public for browsers and CDNs (procedures/caching.py). never_cache: forms that post,
# and anything made for one person.
urlpatterns = [
    # The English home page sends a browser that prefers another language to that language's.
    path("", views.in_preferred_language(public_page(views.home)), name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("search/", public_page(views.search), name="search"),
    path("glossary/", public_page(views.glossary), name="glossary"),
    # /procedures/…
    path("procedures/", public_page(views.procedure_list), name="list"),
    path("procedures/category/<slug:slug>/", public_page(views.category), name="category"),
    path("procedures/<slug:slug>/", public_page(views.leaflet), name="leaflet"),
    path(
        "procedures/<slug:slug>/v/<int:number>/", public_page(views.leaflet_version), name="leaflet_version"
    ),
    path("procedures/<slug:slug>/print/", public_page(views.leaflet_print), name="leaflet_print"),
    path("procedures/<slug:slug>/feedback/", never_cache(feedback.leave_feedback), name="feedback"),
    path(
        "procedures/<slug:slug>/feedback/<str:token>/", never_cache(feedback.comment), name="feedback_comment"
    ),
    # The "Other formats" request form: the same for everyone until it is sent (a POST).
    path("procedures/<slug:slug>/other-formats/", public_page(formats.request_format), name="request_format"),
    # /departments/…
    path("departments/", public_page(views.department_list), name="departments"),
    path("departments/<slug:slug>/", public_page(views.department), name="department"),
    # Printing for clinics: /procedures/<slug>/leaflet.pdf, …/appointment/, /check/…, /print/pack/
    path(
        "procedures/<slug:slug>/leaflet.pdf",
        public_page(print_views.leaflet_pdf, store=False),
        name="leaflet_pdf",
    ),
    path(
        "procedures/<slug:slug>/large-print.pdf",
        public_page(print_views.leaflet_pdf, store=False),
        {"large_print": True},
        name="leaflet_large_print",
    ),
    path("procedures/<slug:slug>/appointment/", print_views.appointment, name="appointment"),
    path("check/<str:resource>/<int:number>/", public_page(print_views.check), name="check"),
    path("print/pack/", print_views.pack, name="pack"),
    # Information prescriptions: /p/<code>/ for patients, /print/prescription/… for clinic staff
    path("p/<str:code>/", public_page(prescriptions.open_prescription), name="prescription"),
    path("print/prescription/", prescriptions.make, name="prescription_make"),
    path("print/prescription/<str:code>/", prescriptions.made, name="prescription_made"),
    path("print/prescription/<str:code>/send/", prescriptions.send, name="prescription_send"),
]
