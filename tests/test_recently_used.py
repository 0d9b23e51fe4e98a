"""The server's bounded caches: one make per key while kept, and the least recently used goes first."""

from genlab.ui.recently_used import RecentlyUsed


def test_values_are_made_once_and_the_least_recently_used_is_forgotten():
    made = []
    cache = RecentlyUsed(2)

    def get(key):
        return cache.get_or_make(key, lambda: made.append(key) or key.upper())

    assert [get("a"), get("b"), get("a")] == ["A", "B", "A"] and made == ["a", "b"]
    get("c")  # "b" was used least recently: it goes
    assert len(cache) == 2 and get("a") == "A" and made == ["a", "b", "c"]
    get("b")
    assert made == ["a", "b", "c", "b"]
