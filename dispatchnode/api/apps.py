from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "dispatchnode.api"
    label = "api"
    verbose_name = "API"
