from tests import factories


def test_factories_build_one_tenant_graph(db):
    appointment = factories.AppointmentFactory()
    job = appointment.job

    assert job.organization_id == appointment.organization_id
    assert job.customer.organization_id == appointment.organization_id
    assert job.location.customer_id == job.customer_id
    assert appointment.technician.organization_id == appointment.organization_id
