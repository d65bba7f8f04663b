"""Everything that talks to PostgreSQL directly: the local server, the schema, the request context."""
