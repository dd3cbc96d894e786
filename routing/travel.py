"""Travel time between two points: the seam the scheduling engine drives through.

For now a straight-line estimate: the great-circle (haversine) distance, stretched by a detour
factor because roads are not straight, at an average speed. The routing app will replace this
with road-network times; callers depend only on `travel_minutes`.
"""

from __future__ import annotations

import math

Point = tuple[float, float]  # (latitude, longitude) in degrees

DEFAULT_TRAVEL_MINUTES = 20  # when either end has no coordinates: a typical cross-town drive
DETOUR_FACTOR = 1.3  # road distance over straight-line distance in a city grid
EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


def distance_km(origin: Point, destination: Point) -> float:
    """Great-circle distance by the haversine formula."""
    lat1, lon1 = map(math.radians, origin)
    lat2, lon2 = map(math.radians, destination)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def travel_minutes(
    origin: Point | None, destination: Point | None, *, speed_kmh: float = 40
) -> int:
    """Whole minutes to drive from `origin` to `destination`, rounded up.

    Unknown ends give `DEFAULT_TRAVEL_MINUTES` rather than zero, so an un-geocoded address
    never looks like the cheapest stop of the day.
    """
    if speed_kmh <= 0:
        raise ValueError(f"speed_kmh must be positive, not {speed_kmh}")
    if origin is None or destination is None:
        return DEFAULT_TRAVEL_MINUTES
    minutes = distance_km(origin, destination) * DETOUR_FACTOR / speed_kmh * 60
    # round() first so float noise (14.000000000002) does not cost a whole extra minute
    return math.ceil(round(minutes, 6))
