"""The seeded member-day demo (scripts/demo.py, tests/integration/test_scenario.py)."""
