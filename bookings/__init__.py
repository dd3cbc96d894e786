"""Bookings: the service catalogue, technicians and their hours, jobs, appointments and the
phone calls that create them (the voice agent lives in `bookings.voice`)."""
