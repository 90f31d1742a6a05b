"""Which platform? platform_scores compares content platforms with each other and card apps with
card apps, month by month; the card-app industry aggregate is not an app and is not scored.

A real pipeline run on the shipped sample plus two more content platforms and a card app.
"""

import pytest
from conftest import query, run_pipeline

AUDIENCE_SOURCE = "test (made-up profile)"


def audience_rows(app: str, ages: list[float], consumption: list[float]) -> list[dict]:
    """A 2025-01 profile: the sample's four age buckets, then its four consumption buckets."""
    age_buckets = ["24岁以下", "25-30岁", "31-35岁", "36岁及以上"]
    consumption_buckets = ["高消费者", "中高消费者", "中等消费者", "中低及以下消费者"]
    return [
        {
            "app": app,
            "month": "2025-01",
            "dimension": dimension,
            "bucket": bucket,
            "share_pct": share,
            "source": AUDIENCE_SOURCE,
        }
        for dimension, buckets, shares in [
            ("age", age_buckets, ages),
            ("consumption", consumption_buckets, consumption),
        ]
        for bucket, share in zip(buckets, shares, strict=True)
    ]


@pytest.fixture
def three_content_platforms(landing, sample_copy, warehouse):
    # the sample: 小红书 (2024-12, 2025-01 with a profile) and the card-app aggregate
    landing.csv(
        "app_activity__platforms.csv",
        [
            {"app": app, "app_category": category, "month": month, "mau": mau, "source": "test"}
            for app, category, month, mau in [
                ("抖音", "content_platform", "2024-12", "7.3亿"),
                ("抖音", "content_platform", "2025-01", "7.5亿"),
                ("微博", "content_platform", "2024-12", "5.9亿"),
                ("微博", "content_platform", "2025-01", "5.8亿"),
                ("掌上生活", "card_app", "2025-01", "0.5亿"),
            ]
        ],
    )
    landing.csv(
        "app_audience__platforms.csv",
        audience_rows("抖音", [30, 20, 20, 30], [10, 30, 30, 30])  # 70% × 70% = 49%
        + audience_rows("微博", [40, 25, 15, 20], [5, 20, 35, 40]),  # 80% × 60% = 48%
    )
    result = run_pipeline()
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return warehouse


def test_content_platforms_are_compared_with_each_other_and_the_aggregate_is_not(
    three_content_platforms,
):
    rows = {
        app: rest
        for app, *rest in query(
            three_content_platforms,
            "SELECT app, app_category, peers, peer_apps, target_reach_component,"
            " target_fit_component, mau_growth_component, components_used, components_left_out,"
            " score FROM marts.platform_scores WHERE month = DATE '2025-01-01'",
        )
    }
    # the card-app industry aggregate is one figure for all card apps: not scored, nobody's peer
    assert "信用卡APP整体" not in rows
    assert not query(
        three_content_platforms,
        "SELECT 1 FROM marts.platform_scores WHERE app_category = 'card_app_industry'",
    )
    content = {app: row for app, row in rows.items() if row[0] == "content_platform"}
    assert content.keys() == {"小红书", "抖音", "微博"}
    for app, (_, peers, peer_apps, *_) in content.items():
        assert peers == 3, app
        assert sorted(peer_apps.split(", ")) == sorted(content), app
    # Reach: 抖音 7.5亿 × 49% > 微博 5.8亿 × 48% > 小红书 2.32亿 × 70.6%; share: 小红书 > 抖音 >
    # 微博; MAU growth: 小红书 +8.65% > 抖音 +2.7% > 微博 −1.7%. Among 3: 83.3, 50, 16.7.
    third = 100 / 6
    expected = {
        "小红书": (third, 5 * third, 5 * third),
        "抖音": (5 * third, 3 * third, 3 * third),
        "微博": (3 * third, third, third),
    }
    for app, components in expected.items():
        _, _, _, reach, fit, growth, used, left_out, score = content[app]
        assert (reach, fit, growth) == pytest.approx(components), app
        assert (used, left_out) == (3, None), app
        weighted = 0.4 * components[0] + 0.3 * components[1] + 0.3 * components[2]
        assert score == pytest.approx(round(weighted, 1)), app
    # so "which platform" has an answer, and it is not a tie at 50
    assert max(content, key=lambda app: content[app][-1]) == "抖音"
    # the card app is compared with card apps only: alone, nothing counts, and the row says why
    category, peers, peer_apps, *_, used, left_out, score = rows["掌上生活"]
    assert (category, peers, peer_apps, used, score) == ("card_app", 1, "掌上生活", 0, None)
    assert left_out == (
        "target_reach (no value of est_target_reach); target_fit (no value of target_share_pct);"
        " mau_growth (no value of mau_mom_pct)"
    )


def test_one_content_platform_gets_no_score_and_says_why(sample_run):
    # the shipped sample has one content platform: a percentile among one is 50 whatever it is
    [(peers, used, score, left_out)] = query(
        sample_run,
        "SELECT peers, components_used, score, components_left_out FROM marts.platform_scores"
        " WHERE app = '小红书' AND month = DATE '2025-01-01'",
    )
    assert (peers, used, score) == (1, 0, None)
    assert left_out == (
        "target_reach (1 peer, minimum 3); target_fit (1 peer, minimum 3);"
        " mau_growth (1 peer, minimum 3)"
    )
