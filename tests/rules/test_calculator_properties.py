"""Properties of calculate_contribution (hypothesis): the amount is
quantize(base × rate) × months to the fen, no float anywhere, monotone in base
and in months, and it never allows what a rule forbids (checked against an
independent oracle of the constraints of REQUIREMENTS §2.1)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from shebao.rules.calculator import calculate_contribution
from shebao.rules.periods import FeePeriod
from shebao.rules.snapshot import PayerFacts, RuleSnapshot

GROUPS = ("达到法定退休年龄人员", "失地农民", "2021年1月退休人员")
CITIES = ("450100", "450800")
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fen_amounts(low: int = 1, high: int = 3_000_000) -> st.SearchStrategy[D]:
    return st.integers(low, high).map(lambda fen: D(fen).scaleb(-2))


def optional_dates(low: dt.date, high: dt.date) -> st.SearchStrategy[dt.date | None]:
    return st.none() | st.dates(low, high)


@st.composite
def rules(draw: st.DrawFn, *, calculations=("base_rate", "fixed_grade", "fixed")) -> RuleSnapshot:
    year = draw(st.integers(2020, 2027))
    calculation = draw(st.sampled_from(calculations))
    opens = draw(st.dates(dt.date(year - 1, 1, 1), dt.date(year, 12, 31)))
    closes = draw(st.none() | st.integers(0, 500).map(lambda days: opens + dt.timedelta(days=days)))
    if calculation == "base_rate":
        min_base = draw(fen_amounts(1, 2_000_000))
        max_base = min_base + draw(fen_amounts(0, 2_000_000))
        grades = tuple(sorted(draw(st.sets(st.sampled_from([min_base, max_base]), min_size=1))))
        rate = D(draw(st.integers(1, 10_000))).scaleb(-4)
    else:
        min_base = max_base = None
        count = 1 if calculation == "fixed" else draw(st.integers(1, 6))
        grades = tuple(sorted(draw(st.sets(fen_amounts(1, 1_000_000), min_size=count, max_size=count))))
        rate = D("0")
    mode = draw(st.sampled_from(("self", "self", "assessed", "mixed")))
    return RuleSnapshot(
        ref="contribution_rule:prop", city_code=draw(st.sampled_from(CITIES)), city_name="测试市", contribution_year=year,
        insurance_type_code="T", insurance_type_name="测试险种", person_type=draw(st.sampled_from(("flexible", "resident"))),
        calculation=calculation, declaration_mode=mode,
        assessed_groups=tuple(draw(st.sets(st.sampled_from(GROUPS), min_size=1 if mode == "mixed" else 0))),
        min_base=min_base, max_base=max_base, grades=grades, rate=rate, collection_opens_on=opens, collection_closes_on=closes,
        base_published_on=draw(optional_dates(dt.date(year - 1, 1, 1), dt.date(year + 1, 12, 31))),
        base_expected_on=draw(optional_dates(dt.date(year - 1, 1, 1), dt.date(year + 1, 12, 31))),
        pay_only_up_to_current_month_until_published=draw(st.booleans()), policy_ref="测试依据",
    )  # fmt: skip


def periods_near(year: int) -> st.SearchStrategy[list[FeePeriod]]:
    one = st.builds(FeePeriod, st.integers(year - 1, year + 1), st.integers(1, 12))
    in_year = st.sets(st.integers(1, 12), min_size=1).map(lambda months: [FeePeriod(year, m) for m in sorted(months)])
    whole_year = st.just([FeePeriod(year, m) for m in range(1, 13)])
    return st.one_of(in_year, st.lists(one, max_size=14), whole_year)


@st.composite
def requests(draw: st.DrawFn):
    """Mostly requests that fail one constraint or none (the interesting ones),
    some that fail anything."""
    rule = draw(rules())
    payer = PayerFacts(
        person_type=draw(st.one_of(st.just(rule.person_type), st.sampled_from(("flexible", "resident")))),
        city_code=draw(st.one_of(st.just(rule.city_code), st.sampled_from(CITIES))),
        groups=tuple(draw(st.sets(st.sampled_from(GROUPS)))),
    )
    bases = [st.sampled_from(rule.grades), fen_amounts(1, 3_000_000), st.integers(1, 3_000_000).map(lambda n: D(n).scaleb(-3))]
    if rule.min_base is not None:
        bases.append(st.integers(int(rule.min_base * 100), int(rule.max_base * 100)).map(lambda fen: D(fen).scaleb(-2)))
        fen = D("0.01")
        bases.append(st.sampled_from([rule.min_base - fen, rule.min_base, rule.max_base, rule.max_base + fen]))
    base = draw(st.one_of(st.none(), *bases))
    grade = draw(st.one_of(st.none(), st.sampled_from(rule.grades), st.sampled_from(rule.grades), fen_amounts(1, 3_000_000)))
    year = rule.contribution_year
    last_open = rule.collection_closes_on or rule.collection_opens_on + dt.timedelta(days=400)
    edges = [
        d + dt.timedelta(days=k)
        for d in (rule.collection_opens_on, rule.collection_closes_on, rule.base_published_on)
        if d
        for k in (-1, 0, 1)
    ]
    today = draw(
        st.one_of(
            st.dates(rule.collection_opens_on, last_open),
            st.dates(dt.date(year - 1, 6, 1), dt.date(year + 2, 3, 1)),
            st.sampled_from(edges),
        )
    )
    return rule, payer, draw(periods_near(year)), base, grade, today


def oracle(rule, payer, periods, base, grade, today) -> set[tuple[str, FeePeriod | None]]:
    """The constraints of a rule restated plainly: every (reason, period) violated."""
    broken: set[tuple[str, FeePeriod | None]] = set()

    def whole(reason):
        broken.add((reason, None))

    if payer.city_code != rule.city_code:
        whole("wrong_city")
    if payer.person_type != rule.person_type:
        whole("wrong_person_type")
    if today < rule.collection_opens_on:
        whole("year_not_open")
    elif rule.collection_closes_on is not None and today > rule.collection_closes_on:
        whole("year_closed")
    if rule.declaration_mode == "assessed":
        whole("assessed")
    if rule.declaration_mode == "mixed" and set(rule.assessed_groups) & set(payer.groups):
        whole("assessed_group")
    if rule.calculation == "fixed":
        if grade is not None and grade != rule.grades[0]:
            whole("grade_not_offered")
    elif rule.calculation == "fixed_grade":
        if grade not in rule.grades:
            whole("grade_not_offered")
    if rule.calculation != "base_rate":
        year = {FeePeriod(rule.contribution_year, m) for m in range(1, 13)}
        if periods and (len(periods) != 12 or set(periods) != year):
            whole("annual_only")
        return broken
    if base is None:
        whole("base_missing")
    elif (base * 100) % 1 != 0:
        whole("base_not_fen")
    elif base < rule.min_base:
        whole("base_below_min")
    elif base > rule.max_base:
        whole("base_above_max")
    if not periods:
        whole("no_periods")
    published = rule.base_published_on is not None and rule.base_published_on <= today
    for period in periods:
        if periods.count(period) > 1:
            broken.add(("period_duplicate", period))
        if period.year != rule.contribution_year:
            broken.add(("period_outside_year", period))
        elif (
            rule.pay_only_up_to_current_month_until_published
            and not published
            and (period.year, period.month) > (today.year, today.month)
        ):
            broken.add(("period_after_current_month", period))
    return broken


def assert_money(value) -> None:
    assert isinstance(value, D) and value.as_tuple().exponent == -2


@PROPERTY_SETTINGS
@given(requests())
def test_never_allows_what_a_rule_forbids(request_values):
    rule, payer, periods, base, grade, today = request_values

    decision = calculate_contribution(rule=rule, payer=payer, periods=periods, base=base, grade=grade, today=today)

    broken = oracle(rule, payer, periods, base, grade, today)
    event("allowed" if decision.allowed else f"refused: {len(broken)} constraint(s)")
    assert decision.allowed == (not broken)
    assert {(r.reason_code, r.period) for r in decision.refusals} == broken
    assert all(r.rule_ref == rule.ref and r.message.endswith("（依据：测试依据）") for r in decision.refusals)
    assert_money(decision.total)
    if not decision.allowed:
        assert decision.total == D("0.00") and decision.lines == ()


@PROPERTY_SETTINGS
@given(rules(), st.data())
def test_allowed_amounts_are_base_times_rate_times_months_to_the_fen(rule, data):
    rule = open_rule(rule)
    payer = PayerFacts(person_type=rule.person_type, city_code=rule.city_code)
    if rule.calculation == "base_rate":
        base = D(data.draw(st.integers(int(rule.min_base * 100), int(rule.max_base * 100)))).scaleb(-2)
        months = sorted(data.draw(st.sets(st.integers(1, 12), min_size=1)))
        grade = None
    else:
        base, months, grade = None, [], data.draw(st.sampled_from(rule.grades))
    periods = [FeePeriod(rule.contribution_year, m) for m in months]

    decision = calculate_contribution(
        rule=rule, payer=payer, periods=periods, base=base, grade=grade, today=rule.collection_opens_on
    )

    assert decision.allowed
    assert_money(decision.total)
    for line in decision.lines:
        assert_money(line.amount)
    assert decision.total == sum(line.amount for line in decision.lines)
    if rule.calculation == "base_rate":
        monthly = (base * rule.rate).quantize(D("0.01"), rounding=ROUND_HALF_UP)
        assert decision.total == monthly * len(periods)
        assert [line.period for line in decision.lines] == periods
        assert all(
            line.base == base and line.rate == rule.rate and line.base.as_tuple().exponent == -2 for line in decision.lines
        )
    else:
        assert decision.total == grade and len(decision.lines) == 1


def open_rule(rule: RuleSnapshot) -> RuleSnapshot:
    """The same numbers with every gate open (self-declared, no restriction)."""
    return replace(rule, declaration_mode="self", pay_only_up_to_current_month_until_published=False, collection_closes_on=None)


@PROPERTY_SETTINGS
@given(rules(calculations=("base_rate",)), st.data())
def test_monotone_in_base(rule, data):
    rule = open_rule(rule)
    low = data.draw(st.integers(int(rule.min_base * 100), int(rule.max_base * 100)))
    high = data.draw(st.integers(low, int(rule.max_base * 100)))
    payer = PayerFacts(person_type=rule.person_type, city_code=rule.city_code)
    months = [FeePeriod(rule.contribution_year, m) for m in range(1, data.draw(st.integers(1, 12)) + 1)]

    def total(fen: int) -> D:
        decision = calculate_contribution(
            rule=rule, payer=payer, periods=months, base=D(fen).scaleb(-2), today=rule.collection_opens_on
        )
        assert decision.allowed
        return decision.total

    assert total(low) <= total(high)


@PROPERTY_SETTINGS
@given(rules(calculations=("base_rate",)), st.data())
def test_monotone_in_months(rule, data):
    rule = open_rule(rule)
    base = data.draw(st.sampled_from(rule.grades))
    fewer = data.draw(st.integers(1, 12))
    more = data.draw(st.integers(fewer, 12))
    payer = PayerFacts(person_type=rule.person_type, city_code=rule.city_code)

    def total(months: int) -> D:
        periods = [FeePeriod(rule.contribution_year, m) for m in range(1, months + 1)]
        decision = calculate_contribution(rule=rule, payer=payer, periods=periods, base=base, today=rule.collection_opens_on)
        assert decision.allowed
        return decision.total

    assert total(fewer) <= total(more)
