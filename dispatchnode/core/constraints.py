"""Database constraints that only PostgreSQL can enforce, declared on the model all the same.

The model's `Meta.constraints` is then the one place that says what the database guarantees
(tests and code can read the condition from it), while the embedded SQLite mode, which has no
GiST indexes, simply does not get the constraint (ADR 0002, ADR 0004).
"""

from __future__ import annotations

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField
from django.db.models import Func


class TsTzRange(Func):
    """`tstzrange(lower, upper[, bounds])`, as in Django's own exclusion-constraint example."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresExclusionConstraint(ExclusionConstraint):
    """An `ExclusionConstraint` created on PostgreSQL and skipped on every other database.

    `validate()` does nothing: `full_clean()` stays portable and costs no query, as it did when
    the constraint was raw SQL. The services check the same condition under a row lock and turn
    the database's refusal into a clean error; the constraint is the backstop.
    """

    def constraint_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using=None):
        return None
