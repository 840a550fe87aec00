from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and customers"

    def ready(self) -> None:
        from rest_framework.authtoken.models import Token, TokenProxy

        from accounts import directory, token_cache
        from accounts.models import Department, Membership, User

        # Every write that can refuse a cached API token replaces its entry. The admin deletes
        # tokens as TokenProxy, whose signals name the proxy, not Token.
        for model in (Token, TokenProxy):
            for signal in (post_save, post_delete):
                signal.connect(
                    token_cache.token_changed,
                    sender=model,
                    dispatch_uid=f"api-token-{model.__name__}",
                )
        post_save.connect(token_cache.user_changed, sender=User, dispatch_uid="api-token-user")

        # The directory's revision follows every change to who a department reaches.
        for model in (Department, Membership):
            for signal in (post_save, post_delete):
                signal.connect(
                    directory.department_changed,
                    sender=model,
                    dispatch_uid=f"directory-{model.__name__}-{signal is post_save}",
                )
        m2m_changed.connect(
            directory.members_changed,
            sender=Department.members.through,
            dispatch_uid="directory-members-changed",
        )
        post_save.connect(directory.user_saved, sender=User, dispatch_uid="directory-user-saved")
        post_delete.connect(
            directory.user_deleted, sender=User, dispatch_uid="directory-user-deleted"
        )
