"""Test tooling that reads the database's catalog and SQL text: the security audits (audit.py, for
test_security_audit.py) and the catalog snapshot the drift test compares (catalog.py, for test_schema_drift.py).
They live with the tests because only the tests use them; mypy checks them with the package."""
