"""The technician app (`/tech/`): mobile-first, works on a weak signal."""
