"""`TenantModelSerializer` scopes writable related fields to the request's organisation, and
every serializer of the API is built so no related id escapes that scope."""

from __future__ import annotations

import importlib
import inspect

import pytest
from rest_framework import serializers

from bookings.models import Skill, Technician
from customers.models import Equipment
from dispatchnode.api.serializers import TenantModelSerializer, TenantScopedRelatedMixin
from dispatchnode.core.models import TenantModel
from tests import factories

API_MODULES = (
    "customers.apis",
    "customers.apis_merges",
    "bookings.apis",
    "bookings.apis_callers",
    "invoicing.apis",
    "dispatchnode.api.views",
)


class EquipmentInput(TenantModelSerializer):
    class Meta:
        model = Equipment
        fields = ["location", "kind", "category", "make"]


class TechnicianSkillsInput(TenantModelSerializer):
    skills = serializers.SlugRelatedField(slug_field="code", many=True, queryset=Skill.objects)

    class Meta:
        model = Technician
        fields = ["first_name", "skills"]


class TechnicianSkillsByIdInput(TenantModelSerializer):
    class Meta:
        model = Technician
        fields = ["first_name", "skills"]


def _equipment_errors(location_id, organization):
    data = {"location": location_id, "kind": "air_conditioner", "category": "hvac", "make": "X"}
    serializer = EquipmentInput(data=data, context={"organization": organization})
    assert not serializer.is_valid()
    return serializer.errors


def test_another_tenants_primary_key_fails_exactly_like_a_missing_one(org, other_org):
    # given
    foreign = factories.ServiceLocationFactory(
        customer=factories.CustomerFactory(organization=other_org)
    )
    missing = foreign.pk + 1000

    # when
    foreign_errors = _equipment_errors(foreign.pk, org)
    missing_errors = _equipment_errors(missing, org)

    # then
    assert (
        foreign_errors["location"][0].code == missing_errors["location"][0].code == "does_not_exist"
    )
    assert (
        str(foreign_errors["location"][0]) == f'Invalid pk "{foreign.pk}" - object does not exist.'
    )
    assert str(missing_errors["location"][0]) == f'Invalid pk "{missing}" - object does not exist.'


def test_the_own_organisations_primary_key_is_accepted(org):
    # given
    own = factories.ServiceLocationFactory(customer=factories.CustomerFactory(organization=org))
    data = {"location": own.pk, "kind": "air_conditioner", "category": "hvac", "make": "X"}

    # when
    serializer = EquipmentInput(data=data, context={"organization": org})

    # then
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["location"] == own


def test_without_an_organisation_no_related_row_is_accepted(org):
    own = factories.ServiceLocationFactory(customer=factories.CustomerFactory(organization=org))
    data = {"location": own.pk, "kind": "air_conditioner", "category": "hvac", "make": "X"}
    serializer = EquipmentInput(data=data, context={})
    assert not serializer.is_valid()
    assert serializer.errors["location"][0].code == "does_not_exist"


def test_slug_and_many_related_fields_are_scoped_too(org, other_org):
    # given: the same skill code in both organisations, and one only in B
    factories.SkillFactory(organization=org, code="hvac")
    factories.SkillFactory(organization=other_org, code="hvac")
    factories.SkillFactory(organization=other_org, code="boilers")
    foreign_by_id = factories.SkillFactory(organization=other_org)

    # when
    shared = TechnicianSkillsInput(
        data={"first_name": "Al", "skills": ["hvac"]}, context={"organization": org}
    )
    foreign = TechnicianSkillsInput(
        data={"first_name": "Al", "skills": ["boilers"]}, context={"organization": org}
    )
    by_id = TechnicianSkillsByIdInput(
        data={"first_name": "Al", "skills": [foreign_by_id.pk]}, context={"organization": org}
    )

    # then: the code resolves to A's skill (no MultipleObjectsReturned), B's only code is unknown
    assert shared.is_valid(), shared.errors
    assert [s.organization_id for s in shared.validated_data["skills"]] == [org.pk]
    assert not foreign.is_valid()
    assert str(foreign.errors["skills"][0]) == "Object with code=boilers does not exist."
    assert not by_id.is_valid()
    assert by_id.errors["skills"][0].code == "does_not_exist"


def _api_serializers():
    found = {}
    for name in API_MODULES:
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, serializers.BaseSerializer) and obj.__module__ == name:
                found[f"{name}.{obj.__name__}"] = obj
    return found


SERIALIZERS = _api_serializers()


def test_the_walk_finds_the_api_serializers():
    assert len(SERIALIZERS) >= 30
    assert "customers.apis.CustomerOutputSerializer" in SERIALIZERS


@pytest.mark.parametrize("name", sorted(SERIALIZERS))
def test_every_api_serializer_uses_the_tenant_base_and_scopes_its_related_fields(name, org):
    # given
    cls = SERIALIZERS[name]

    # then: a model serializer of a tenant model is built on the base
    if issubclass(cls, serializers.ModelSerializer):
        assert issubclass(cls, TenantModelSerializer), f"{name} is not a TenantModelSerializer"
        assert issubclass(cls.Meta.model, TenantModel)
    # and every writable related field to a tenant model is scoped
    instance = cls(context={"organization": org})
    for field_name, field in instance.fields.items():
        target = field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
        if isinstance(target, serializers.RelatedField) and not target.read_only:
            model = target.queryset.model
            if issubclass(model, TenantModel):
                assert isinstance(target, TenantScopedRelatedMixin), (
                    f"{name}.{field_name} accepts any organisation's {model.__name__}"
                )
