"""The consent record in the admin: the office's opt-outs, normalised and mirrored."""

from __future__ import annotations

from django.urls import reverse

from customers.models import Consent
from tests import factories

STRANGER = "+15125550999"


def test_the_office_opts_a_number_out_in_the_admin(staff_member, client_for):
    org = factories.OrganizationFactory()
    # given a dispatcher and a customer with the number
    contact = factories.ContactPointFactory(
        customer=factories.CustomerFactory(organization=org), value=STRANGER
    )
    client = client_for(staff_member(org))

    # when they add an opt-out for the number as the customer wrote it
    response = client.post(
        reverse("admin:customers_consent_add"),
        {"channel": "sms", "address": "512 555 0999", "status": "opted_out", "note": "Asked"},
    )

    # then it is stored in E.164 as the office's, and mirrored on the contact point
    assert response.status_code == 302
    [consent] = Consent.objects.all()
    assert (consent.organization_id, consent.address, consent.status, consent.source) == (
        org.pk,
        STRANGER,
        "opted_out",
        "staff",
    )
    contact.refresh_from_db()
    assert contact.sms_opt_out is True

    # and a second opt-out for the same number is a form error, not a crash
    again = client.post(
        reverse("admin:customers_consent_add"),
        {"channel": "sms", "address": STRANGER, "status": "opted_out", "note": ""},
    )
    assert again.status_code == 200
    assert Consent.objects.count() == 1
