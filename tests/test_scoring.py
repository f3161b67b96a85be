from __future__ import annotations

import pytest

from survey.scoring import (
    distribution,
    likert_summary,
    nps_from_counts,
    nps_summary,
    round_half_up,
    text_share,
)

COUNTY = [522, 230, 217, 186, 479, 484, 300, 775, 4039, 11079, 39503]


def test_county_report_example_gives_nps_83_3() -> None:
    # promoters 50582, detractors 2418, n 57814 -> 83.31...
    assert nps_from_counts(COUNTY) == 83.3
    summary = nps_summary(COUNTY)
    assert summary.n == 57814
    assert summary.promoters == 11079 + 39503
    assert summary.detractors == sum(COUNTY[:7])
    assert summary.passives == 775 + 4039


def test_mean_and_shares_by_hand() -> None:
    counts = [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2]  # 0, 9, 10, 10
    s = nps_summary(counts)
    assert s.mean == 7.25
    assert s.nps == 50.0  # 3/4 promoters - 1/4 detractors
    assert s.shares[0] == 25.0 and s.shares[10] == 50.0


def test_empty_group_has_no_nps_or_mean() -> None:
    s = nps_summary([0] * 11)
    assert s.n == 0 and s.nps is None and s.mean is None


def test_all_detractors_is_minus_100() -> None:
    assert nps_from_counts([3, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0]) == -100.0


def test_rounding_is_half_up_like_reports() -> None:
    assert round_half_up(83.25, 1) == 83.3
    assert round_half_up(-0.05, 1) == -0.1
    assert round_half_up(4.665, 2) == 4.67


def test_distribution_rejects_out_of_range() -> None:
    assert distribution([0, 10, 10]) == [1] + [0] * 9 + [2]
    with pytest.raises(ValueError):
        distribution([11])


def test_likert_mean_and_agree_share() -> None:
    s = likert_summary([1, 0, 1, 3, 5])  # n 10, sum 1+3+12+25 = 41
    assert s.n == 10 and s.mean == 4.1 and s.agree_share == 80.0
    assert likert_summary([0] * 5).mean is None


def test_text_share() -> None:
    assert text_share(638, 1000) == 63.8
    assert text_share(0, 0) is None
    with pytest.raises(ValueError):
        text_share(3, 2)
