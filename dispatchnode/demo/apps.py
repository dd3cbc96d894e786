from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "dispatchnode.demo"
    label = "demo"
    verbose_name = "Demo company"
