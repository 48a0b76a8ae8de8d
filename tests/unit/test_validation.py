"""What a client may send: each use case's exact keyword arguments, and nothing else."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from taxi_core.domain import InvalidArgument
from taxi_core.geo import Point
from taxi_core.validation import (
    CREDENTIALS,
    DRIVER_LOCATE,
    NO_ARGUMENTS,
    SIGNUP,
    TRIP_BY_NK,
    TRIP_LIST,
    TRIP_REQUEST,
    TRIP_UPDATE,
    Text,
)

NK = "0123456789abcdef0123456789abcdef"
SPECS = {
    "signup": (SIGNUP, {"username": "alice", "password": "correct horse", "role": "rider"}),
    "credentials": (CREDENTIALS, {"username": "alice", "password": "correct horse"}),
    "trip_request": (TRIP_REQUEST, {"pick_up_address": "1 Main St", "drop_off_address": "2 Elm St"}),
    "trip_update": (TRIP_UPDATE, {"nk": NK, "status": "STARTED"}),
    "trip_by_nk": (TRIP_BY_NK, {"nk": NK}),
    "trip_list": (TRIP_LIST, {}),
    "no_arguments": (NO_ARGUMENTS, {}),
    "driver_locate": (DRIVER_LOCATE, {"lat": 52.5, "lng": 13.4}),
}
TEXT_FIELDS = [
    (spec_name, name)
    for spec_name, (spec, _) in SPECS.items()
    for name, field in {**spec.required, **spec.optional}.items()
    if isinstance(field, Text)
]
REQUIRED = [(spec_name, name) for spec_name, (spec, _) in SPECS.items() for name in spec.required]
NOT_TEXT = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.binary(),
    st.lists(st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=3),
)
# A password and a request_id are taken as typed; every other text is trimmed first.
TAKEN_AS_TYPED = ("password", "request_id")
BLANK = st.text(alphabet=" \t\r\n\x0b\x0c\u00a0\u2003\u3000", min_size=1, max_size=20)


def clean(spec_name: str, *args, **changes):
    spec, valid = SPECS[spec_name]
    return spec.clean(args, {**valid, **changes})


def refused(spec_name: str, *args, **changes) -> bool:
    try:
        clean(spec_name, *args, **changes)
    except InvalidArgument:
        return True
    return False


@pytest.mark.parametrize("spec_name", SPECS)
def test_well_formed_arguments_are_accepted_as_they_are(spec_name):
    assert clean(spec_name) == SPECS[spec_name][1]


@pytest.mark.parametrize(("spec_name", "name"), REQUIRED)
def test_a_missing_required_argument_is_refused(spec_name, name):
    spec, valid = SPECS[spec_name]
    with pytest.raises(InvalidArgument, match=name):
        spec.clean((), {key: value for key, value in valid.items() if key != name})


@pytest.mark.parametrize("spec_name", SPECS)
@pytest.mark.parametrize("extra", ["surprise", "rider", "driver", "caller"])
def test_an_argument_the_use_case_does_not_take_is_refused(spec_name, extra):
    # "rider" and "driver" above all: the caller's identity comes from the router only.
    with pytest.raises(InvalidArgument, match=extra):
        clean(spec_name, **{extra: "alice"})


@pytest.mark.parametrize("spec_name", SPECS)
def test_positional_arguments_are_refused(spec_name):
    assert refused(spec_name, "1 Main St")


# Hypothesis draws the field itself: pytest-twisted (installed for tests/e2e) breaks
# @given combined with @pytest.mark.parametrize.
@given(field=st.sampled_from(TEXT_FIELDS), value=NOT_TEXT)
def test_a_text_argument_of_another_type_is_refused(field, value):
    spec_name, name = field
    assert refused(spec_name, **{name: value})


@given(field=st.sampled_from([f for f in TEXT_FIELDS if f[1] not in TAKEN_AS_TYPED]), value=st.just("") | BLANK)
def test_an_empty_or_blank_text_argument_is_refused_unless_it_may_be_empty(field, value):
    spec_name, name = field
    if name in ("first_name", "last_name"):
        assert clean(spec_name, **{name: value})[name] == ""
    else:
        assert refused(spec_name, **{name: value})


def test_a_password_or_request_id_is_taken_exactly_as_typed_spaces_and_all():
    assert clean("signup", password=" " * 8)["password"] == " " * 8
    assert clean("signup", password="  two  spaces  ")["password"] == "  two  spaces  "
    assert clean("trip_request", request_id=" ")["request_id"] == " "
    assert refused("signup", password="")
    assert refused("trip_request", request_id="")


@pytest.mark.parametrize(
    ("spec_name", "name", "longest"),
    [
        ("signup", "username", 150),
        ("signup", "password", 256),
        ("signup", "first_name", 150),
        ("signup", "last_name", 150),
        ("trip_request", "pick_up_address", 255),
        ("trip_request", "drop_off_address", 255),
        ("trip_request", "request_id", 64),
    ],
)
def test_a_text_argument_one_character_over_its_limit_is_refused(spec_name, name, longest):
    assert not refused(spec_name, **{name: "a" * longest})
    assert refused(spec_name, **{name: "a" * (longest + 1)})


def test_a_password_must_have_at_least_eight_characters():
    assert refused("signup", password="a" * 7)
    assert not refused("signup", password="a" * 8)


@pytest.mark.parametrize(("spec_name", "name"), [f for f in TEXT_FIELDS if f[1] != "nk"])
@pytest.mark.parametrize("bad", ["\x00", "\ud800", "\udfff"], ids=["nul", "lone-high-surrogate", "lone-low-surrogate"])
def test_a_text_argument_with_a_nul_byte_or_a_lone_surrogate_is_refused(spec_name, name, bad):
    value = SPECS[spec_name][1].get(name, "abcdefgh")
    with pytest.raises(InvalidArgument, match="not allowed"):
        clean(spec_name, **{name: value[:3] + bad + value[3:]})


def test_an_address_and_a_name_are_trimmed():
    assert clean("trip_request", pick_up_address="  1 Main St \n")["pick_up_address"] == "1 Main St"
    assert clean("signup", first_name=" Ann ")["first_name"] == "Ann"


@given(
    address=st.text(
        alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
        max_size=300,
    )
)
def test_any_address_of_1_to_255_characters_after_trimming_is_accepted_trimmed(address):
    if 1 <= len(address.strip()) <= 255:
        assert clean("trip_request", pick_up_address=address)["pick_up_address"] == address.strip()
    else:
        assert refused("trip_request", pick_up_address=address)


@given(nk=st.from_regex(r"[0-9a-f]{32}", fullmatch=True))
def test_any_32_lowercase_hex_digits_are_a_natural_key(nk):
    assert clean("trip_by_nk", nk=nk) == {"nk": nk}


@pytest.mark.parametrize(
    "nk",
    [
        NK.upper(),
        NK[:-1],
        NK + "0",
        "01234567-89ab-cdef-0123-456789abcdef",
        "g" * 32,
        "\u0660" * 32,  # ARABIC-INDIC DIGIT ZERO: a digit, but not a hex digit
        "../" + NK[3:],
    ],
)
@pytest.mark.parametrize("spec_name", ["trip_by_nk", "trip_update"])
def test_a_malformed_natural_key_is_refused(spec_name, nk):
    assert refused(spec_name, nk=nk)


@given(nk=st.text(max_size=40).filter(lambda text: not re.fullmatch(r"[0-9a-f]{32}", text.strip())))
def test_anything_but_32_lowercase_hex_digits_is_not_a_natural_key(nk):
    assert refused("trip_by_nk", nk=nk)


@pytest.mark.parametrize("role", ["admin", "backend", "anonymous", "Rider", "DRIVER", "rider,driver"])
def test_a_role_other_than_rider_or_driver_is_refused(role):
    assert refused("signup", role=role)


@pytest.mark.parametrize("role", ["rider", "driver"])
def test_a_user_signs_up_as_rider_or_driver(role):
    assert clean("signup", role=role)["role"] == role


@pytest.mark.parametrize("username", ["al ice", "alice!", "a/b", "<script>", "ali\u200bce"])
def test_a_username_with_characters_outside_letters_digits_and_dot_at_plus_dash_underscore_is_refused(username):
    assert refused("signup", username=username)


@pytest.mark.parametrize("status", ["started", "requested", "DONE", "ACCEPTED"])
def test_a_status_outside_the_lifecycle_is_refused(status):
    assert refused("trip_update", status=status)


@pytest.mark.parametrize("active", [True, False])
def test_the_active_filter_is_true_or_false(active):
    assert clean("trip_list", active=active) == {"active": active}


@given(active=NOT_TEXT.filter(lambda value: not isinstance(value, bool)) | st.sampled_from(["true", "false", ""]))
@example(active=1)
@example(active=0)
def test_an_active_filter_that_is_not_a_boolean_is_refused_even_one_or_zero(active):
    assert refused("trip_list", active=active)


NOT_A_NUMBER = st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.binary(max_size=5),
                         st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))  # fmt: skip


@pytest.mark.parametrize(("name", "limit"), [("lat", 90), ("lng", 180)])
def test_a_position_is_degrees_up_to_their_limits_integers_included(name, limit):
    for value in (limit, -limit, 0, 0.5, -limit + 1e-9):
        assert clean("driver_locate", **{name: value})[name] == value
    assert isinstance(clean("driver_locate", **{name: 1})[name], float)
    for value in (limit + 1e-9, -limit - 1, 10**400, -(10**400), float("inf"), float("-inf"), float("nan")):
        assert refused("driver_locate", **{name: value})


@given(name=st.sampled_from(["lat", "lng"]), value=NOT_A_NUMBER)
def test_a_position_that_is_not_a_number_is_refused(name, value):
    assert refused("driver_locate", **{name: value})


def test_a_pick_up_location_is_a_latitude_and_a_longitude_and_nothing_else():
    assert clean("trip_request", pick_up_location={"lat": 52.5, "lng": -13})["pick_up_location"] == Point(52.5, -13.0)
    for location in ({"lat": 52.5}, {"lat": 52.5, "lng": 13, "alt": 30}, {"lat": 91, "lng": 0}, {"lat": 0, "lng": "1"},
                     {"lat": float("nan"), "lng": 0}, [52.5, 13.4], "52.5,13.4", None, {}):  # fmt: skip
        assert refused("trip_request", pick_up_location=location), location


def test_a_request_without_a_pick_up_location_has_none():
    assert "pick_up_location" not in clean("trip_request")
