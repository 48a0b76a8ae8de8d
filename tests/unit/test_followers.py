"""The authorizer's memory of who may follow which trip stays small: it is only wanted for the
subscribe that follows a request or an accept, so the oldest yes is the first forgotten."""

from taxi_core.followers import MAX_REMEMBERED, Followers


def test_a_full_memory_forgets_the_oldest_pair_first():
    followers = Followers(max_remembered=3)
    for nk in ("t1", "t2", "t3", "t4"):
        followers.remember("ann", nk)
    assert [followers.knows("ann", nk) for nk in ("t1", "t2", "t3", "t4")] == [False, True, True, True]


def test_a_pair_remembered_again_is_the_newest_and_outlives_older_ones():
    followers = Followers(max_remembered=2)
    followers.remember("ann", "t1")
    followers.remember("bob", "t2")
    followers.remember("ann", "t1")
    followers.remember("cy", "t3")
    assert followers.knows("ann", "t1") and followers.knows("cy", "t3")
    assert not followers.knows("bob", "t2")


def test_the_default_memory_holds_a_few_thousand_pairs_not_a_day_of_trips():
    followers = Followers()
    for n in range(MAX_REMEMBERED + 10):
        followers.remember("ann", f"{n:032x}")
    assert not followers.knows("ann", f"{0:032x}")
    assert followers.knows("ann", f"{MAX_REMEMBERED + 9:032x}")
    assert MAX_REMEMBERED <= 10_000
