"""The office dashboard (`/dashboard/`): owners and dispatchers."""
