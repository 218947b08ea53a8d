from organizing.notices.thresholds import crossed, goal_thresholds, ladder_up_to, next_goal


def test_the_default_ladder_goes_every_thousand_after_a_thousand():
    assert ladder_up_to(3_500) == [10, 25, 50, 100, 250, 500, 1_000, 2_000, 3_000]


def test_goal_percentages_round_down_and_never_reach_zero():
    assert goal_thresholds(100) == [25, 50, 75, 100]
    assert goal_thresholds(2) == [1, 2]


def test_a_count_crosses_each_threshold_between_the_old_and_new_count_once():
    assert crossed(previous=9, current=60, goal=1_000) == [10, 25, 50]
    assert crossed(previous=50, current=60, goal=1_000) == []


def test_a_count_that_falls_crosses_nothing():
    assert crossed(previous=60, current=5, goal=100) == []


def test_goal_percentages_and_extra_thresholds_join_the_ladder():
    assert crossed(previous=0, current=80, goal=300, extra=[1, 33]) == [1, 10, 25, 33, 50, 75]
    assert crossed(previous=0, current=80, goal=300, use_ladder=False) == [75]


def test_the_goal_rises_to_the_next_rung():
    assert next_goal(100, 10_000_000) == 250
    assert next_goal(1_000, 10_000_000) == 2_000
    assert next_goal(9_999_999, 10_000_000) == 10_000_000
