from tests.conftest import Database, acting_as, create_user


def test_shopper_sees_only_own_preferences(db: Database) -> None:
    with db.connect() as conn:
        alice, bob = create_user(conn), create_user(conn)
        conn.execute(
            "insert into public.customer_preferences (user_id, preference_type, preference_key) values"
            " (%s, 'favorite', 'milk'), (%s, 'favorite', 'eggs')",
            (alice, bob),
        )
        with acting_as(conn, "authenticated", alice):
            rows = conn.execute("select preference_key from public.customer_preferences").fetchall()
        assert rows == [{"preference_key": "milk"}]
