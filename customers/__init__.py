"""Customers: people and companies we serve, how to reach them, where we work and what is
installed there, notes for the agent and technicians, and the message timeline."""
