from django.urls import path

from . import views

app_name = "petition"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.campaign_detail, name="campaign"),
    path("p/<slug:slug>/", views.petition_detail, name="detail"),
]
