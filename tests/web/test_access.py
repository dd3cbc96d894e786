"""Sign-in, roles and the home redirect, for every dashboard and technician page."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from dispatchnode.accounts.models import Membership
from tests import factories
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db

# Pages under /tech/ that must work without a session (the browser fetches them itself).
TECH_PUBLIC = {"tech/sw.js", "tech/manifest.webmanifest"}


def _patterns(prefix: str) -> list[tuple[str, URLPattern]]:
    found = []

    def walk(patterns, route_prefix: str) -> None:
        for pattern in patterns:
            route = route_prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith(prefix):
                found.append((route, pattern))

    walk(get_resolver().url_patterns, "")
    return found


@pytest.mark.parametrize(("prefix", "access"), [("dashboard/", "office"), ("tech/", "technician")])
def test_every_page_declares_who_may_open_it(prefix, access):
    patterns = [(r, p) for r, p in _patterns(prefix) if r not in TECH_PUBLIC]
    assert patterns, f"no pages under /{prefix}"
    undeclared = [r for r, p in patterns if getattr(p.callback, "access", None) != access]
    assert undeclared == [], f"pages not wrapped in the {access} decorator: {undeclared}"


def test_anonymous_users_are_sent_to_sign_in_with_next():
    response = Client().get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/"
    assert Client().get("/tech/")["Location"] == "/accounts/login/?next=/tech/"


def test_home_sends_each_role_to_its_pages(office_client, owner_client, tech_client):
    assert Client().get("/")["Location"] == "/accounts/login/?next=/"
    assert office_client.get("/")["Location"] == "/dashboard/"
    assert owner_client.get("/")["Location"] == "/dashboard/"
    assert tech_client.get("/")["Location"] == "/tech/"


def test_a_technician_is_refused_the_dashboard_and_pointed_to_their_day(tech_client):
    response = tech_client.get("/dashboard/")
    assert response.status_code == 403
    assert b"The dashboard is for office staff." in response.content
    assert b'href="/tech/"' in response.content


def test_office_staff_and_unlinked_technicians_are_refused_the_technician_app(org, office_client):
    assert office_client.get("/tech/").status_code == 403
    unlinked = factories.MembershipFactory(organization=org, role=Membership.Role.TECHNICIAN)
    response = signed_in(unlinked.user).get("/tech/")
    assert response.status_code == 403
    assert b"linked to a technician record" in response.content


def test_a_technician_linked_in_another_organisation_is_refused(org, other_org):
    membership = factories.MembershipFactory(organization=org, role=Membership.Role.TECHNICIAN)
    factories.TechnicianFactory(organization=other_org, user=membership.user)
    assert signed_in(membership.user).get("/tech/").status_code == 403


def test_an_inactive_membership_opens_nothing(org):
    membership = factories.MembershipFactory(
        organization=org, role=Membership.Role.DISPATCHER, is_active=False
    )
    assert signed_in(membership.user).get("/dashboard/").status_code == 403


def test_sign_in_and_out_with_the_login_form(org, dispatcher):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/?next=/dashboard/")
    assert page.status_code == 200
    token = page.cookies["csrftoken"].value
    wrong = client.post(
        "/accounts/login/",
        {"username": dispatcher.username, "password": "nope", "csrfmiddlewaretoken": token},
    )
    assert b"do not match" in wrong.content
    response = client.post(
        "/accounts/login/",
        {
            "username": dispatcher.username,
            "password": "pw-for-tests",
            "next": "/dashboard/",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    token = client.cookies["csrftoken"].value
    out = client.post("/accounts/logout/", {"csrfmiddlewaretoken": token})
    assert out["Location"] == "/accounts/login/"
    assert client.get("/dashboard/").status_code == 302


def test_a_post_without_the_csrf_token_is_refused(dispatcher):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/accounts/login/", {"username": dispatcher.username, "password": "pw-for-tests"}
    )
    assert response.status_code == 403


def test_password_reset_by_email(settings, dispatcher):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = Client()
    response = client.post("/accounts/password_reset/", {"email": dispatcher.email})
    assert response["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True)
    assert b"Choose a new password" in form.content
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-long-new-passphrase", "new_password2": "a-long-new-passphrase"},
    )
    assert done["Location"] == "/accounts/reset/done/"
    dispatcher.refresh_from_db()
    assert dispatcher.check_password("a-long-new-passphrase")


def test_sessions_expire(settings):
    assert settings.SESSION_COOKIE_AGE <= 24 * 60 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
