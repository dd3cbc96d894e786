from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "dispatchnode.web"
    label = "web"
    verbose_name = "Dashboard and technician app"
