"""The demo company: `python manage.py seed_demo` builds "Demo Heating & Air" (DESIGN.md §4)."""
