"""Twilio webhook routes, included at `/twilio/` (DESIGN.md §4)."""

from django.urls import path

from bookings.voice import views

app_name = "twilio"

urlpatterns = [
    path("voice/incoming", views.voice_incoming, name="voice_incoming"),
    path("voice/status", views.voice_status, name="voice_status"),
    path("voice/recording", views.voice_recording, name="voice_recording"),
    path("voice/turn/<str:call_sid>", views.voice_turn, name="voice_turn"),
    path("sms/incoming", views.sms_incoming, name="sms_incoming"),
    path("sms/status", views.sms_status, name="sms_status"),
]
