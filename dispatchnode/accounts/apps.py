from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "dispatchnode.accounts"
    label = "accounts"
    verbose_name = "Accounts and organisations"
