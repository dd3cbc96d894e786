"""Routing (to come): travel-time providers (straight-line now, road networks later), vehicle
positions from telematics, traffic incidents, the OR-Tools day planner and the RoutePlan it
produces per technician and day, re-planned from current positions when traffic, an overrun, a
cancellation or an emergency changes the picture. No models yet: the scheduling engine's
travel-time function is the seam this app will fill."""
