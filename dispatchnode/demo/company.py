"""The fixed part of the demo company: organisation and Twilio number, logins, technicians with
skills and shifts, service catalogue and price book. Made true on every run, written only when
something differs."""

from __future__ import annotations

import random

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group, Permission

from bookings.models import ServiceType, Skill, Technician, WorkingHours
from dispatchnode.accounts.models import Membership, Organization, PhoneNumber, User
from dispatchnode.accounts.services import membership_grant
from dispatchnode.demo import data
from dispatchnode.demo.context import DemoSeedError
from invoicing.models import PriceBookItem


def upsert(model, *, lookup: dict, values: dict, on_create: dict | None = None):
    """Get by `lookup`; create (validated) when missing; otherwise set only what differs."""
    obj = model._base_manager.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values, **(on_create or {}))
        obj.full_clean()
        obj.save()
        return obj, True
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.full_clean()
        obj.save(update_fields=[*changed, *(["updated_at"] if hasattr(obj, "updated_at") else [])])
    return obj, False


def ensure_organization() -> Organization:
    organization, _ = upsert(
        Organization,
        lookup={"slug": data.ORG_SLUG},
        values={
            "name": data.ORG_NAME,
            "timezone": data.ORG_TIMEZONE,
            "country": "US",
            "currency": "USD",
            "tax_rate": data.ORG_TAX_RATE,
            "business_hours": data.ORG_BUSINESS_HOURS,
            "office_phone": data.ORG_OFFICE_PHONE,
            "email": data.ORG_EMAIL,
            "website": data.ORG_WEBSITE,
            "address": data.ORG_ADDRESS,
            "twilio_account_sid": f"AC{random.Random(data.SEED).getrandbits(128):032x}",
            "twilio_auth_token": settings.DEMO_TWILIO_AUTH_TOKEN,
            "is_active": True,
        },
    )
    number = PhoneNumber.objects.filter(e164=data.ORG_TWILIO_NUMBER).first()
    if number is not None and number.organization_id != organization.pk:
        raise DemoSeedError(
            f"{data.ORG_TWILIO_NUMBER} belongs to another organisation "
            f"(id {number.organization_id}); remove it there first."
        )
    upsert(
        PhoneNumber,
        lookup={"organization": organization, "e164": data.ORG_TWILIO_NUMBER},
        values={"label": "Main line", "is_active": True},
        on_create={"twilio_sid": f"PN{random.Random(f'{data.SEED}:pn').getrandbits(128):032x}"},
    )
    return organization


def ensure_users(*, organization: Organization) -> dict[str, User]:
    specs = [
        (o.username, o.first_name, o.last_name, o.role, True, o.is_superuser, "")
        for o in data.OFFICE_USERS
    ] + [
        (t.username, t.first_name, t.last_name, Membership.Role.TECHNICIAN, False, False, t.phone)
        for t in data.TECHNICIANS
    ]
    existing = {u.username: u for u in User.objects.filter(username__in=[s[0] for s in specs])}
    owner = existing.get("owner")
    if owner is not None and check_password(settings.DEMO_PASSWORD, owner.password):
        encoded = owner.password  # one hash for all: re-hashing eight times costs seconds
    else:
        encoded = make_password(settings.DEMO_PASSWORD)
    users = {}
    for username, first, last, role, staff, superuser, phone in specs:
        user, _ = upsert(
            User,
            lookup={"username": username},
            values={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@demoheating.example.com",
                "phone": phone,
                "is_staff": staff,
                "is_superuser": superuser,
                "is_active": True,
                "password": encoded,
            },
        )
        membership = Membership.objects.filter(organization=organization, user=user).first()
        if membership is None or membership.role != role or not membership.is_active:
            membership_grant(organization=organization, user=user, role=role)
        users[username] = user
    group, _ = Group.objects.get_or_create(name=data.OFFICE_GROUP)
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=data.OFFICE_APPS))
    users["dispatcher"].groups.add(group)
    return users


def ensure_technicians(
    *, organization: Organization, users: dict[str, User]
) -> dict[int, Technician]:
    skills = {
        code: upsert(
            Skill, lookup={"organization": organization, "code": code}, values={"name": name}
        )[0]
        for code, name in data.SKILLS
    }
    technicians = {}
    for spec in data.TECHNICIANS:
        technician, _ = upsert(
            Technician,
            lookup={"organization": organization, "user": users[spec.username]},
            values={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "phone": spec.phone,
                "email": spec.email,
                "home_base_address": spec.home_base,
                "home_latitude": spec.latitude,
                "home_longitude": spec.longitude,
                "color": spec.color,
                "is_active": True,
            },
        )
        technician.skills.set([skills[code] for code in spec.skills])
        wanted = {(day, spec.start) for day in spec.weekdays}
        for hours in WorkingHours.objects.filter(organization=organization, technician=technician):
            if (hours.weekday, hours.start_time) not in wanted:
                hours.delete()
        for day in spec.weekdays:
            upsert(
                WorkingHours,
                lookup={
                    "organization": organization,
                    "technician": technician,
                    "weekday": day,
                    "start_time": spec.start,
                },
                values={"end_time": spec.end},
            )
        technicians[technician.pk] = technician
    return {
        t.pk: t
        for t in Technician.objects.filter(pk__in=technicians)
        .select_related("user")
        .prefetch_related("skills")
    }


def ensure_catalogue(*, organization: Organization) -> dict[str, ServiceType]:
    skills = {s.code: s for s in Skill.objects.filter(organization=organization)}
    return {
        spec.code: upsert(
            ServiceType,
            lookup={"organization": organization, "code": spec.code},
            values={
                "name": spec.name,
                "category": spec.category,
                "kind": spec.kind,
                "description": spec.description,
                "default_duration_minutes": spec.minutes,
                "required_skill": skills[spec.skill],
                "spoken_synonyms": list(spec.synonyms),
                "is_active": True,
            },
        )[0]
        for spec in data.SERVICE_TYPES
    }


def ensure_price_book(
    *, organization: Organization, service_types: dict[str, ServiceType]
) -> dict[str, PriceBookItem]:
    return {
        item.code: upsert(
            PriceBookItem,
            lookup={"organization": organization, "code": item.code},
            values={
                "name": item.name,
                "kind": item.kind,
                "category": item.category,
                "unit": item.unit,
                "unit_price": item.price,
                "unit_cost": item.cost,
                "taxable": item.taxable,
                "service_type": service_types.get(item.service_type),
                "is_active": True,
            },
        )[0]
        for item in data.PRICE_BOOK
    }
