"""Never a 500 (issue 16, item 2), over HTTP against the real predict app and the real rollout
service: bodies nested too deeply, odd rollout bodies and strings posing as numbers are each a
4xx JSON error naming the field, and hypothesis-generated odd bodies never get a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cairn.serving import ServingLimits, create_app
from cairn.serving.admin import AdminTokens
from cairn.serving.request import MAX_JSON_DEPTH
from tests.rollouts import _rollout
from tests.serving._client import TestClient
from tests.serving._models import FakeLoader, scoring_model, train_booster
from tests.serving._predict_app import REF, predict_app, store_reader
from tests.serving.conftest import Project
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

TOKENS = AdminTokens.parse("viewer:v-tok,deployer:ana:d-tok,approver:carla:a-tok")
ROLLOUT = "/v1/deployments/credit/rollout"
DEEP = 300  # deeper than orjson can re-encode (254), which used to be a 500


def deep(value: bytes = b"1", depth: int = DEEP) -> bytes:
    """``value`` wrapped in ``depth`` arrays, as raw JSON."""
    return b"[" * depth + value + b"]" * depth


def body_with(template: str, depth: int = DEEP) -> bytes:
    """``template`` with ``@`` replaced by a value nested ``depth`` levels."""
    return template.replace("@", deep(depth=depth).decode()).encode()


def income(value: str) -> str:
    """A predict row whose request-time ``income`` is the raw JSON ``value``."""
    return '{"entities": {"customer_id": 1}, "features": {"income": ' + value + "}}"


def assert_json_error(r: Any, status: int, *words: str) -> None:
    assert r.status_code == status, (r.status_code, r.text[:300])
    error = r.json()["error"]
    assert isinstance(error["type"], str)
    for word in words:
        assert word in error["message"], (word, error["message"])


# -- the predict app: predict, batch, outcomes, online features -----------------------------


@pytest.fixture(scope="module")
def predict_client(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    loader = FakeLoader({REF: {"1": scoring_model(train_booster(3))}})
    state: Path = tmp_path_factory.mktemp("never500")
    limits = ServingLimits(max_entities=20)
    app, _ = predict_app(state, store_reader(project.store), loader, admin_token="t", limits=limits)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


DEEP_BODIES = [
    ("/v1/predict/credit", '{"entities": {"customer_id": 1}, "features": {"income": @}}'),
    ("/v1/predict/credit", '{"entities": {"customer_id": @}}'),
    ("/v1/predict/credit", '{"entities": {"customer_id": 1}, "unit_id": @}'),
    ("/v1/predict/credit/batch", '{"rows": [{"entities": {"customer_id": @}}]}'),
    ("/v1/outcomes", '{"outcomes": [{"prediction_id": "p1", "label": @}]}'),
    ("/v1/outcomes", '{"outcomes": [{"entities": {"customer_id": @}, "label": 1}]}'),
    ("/v1/features/online", '{"features": ["profile:income"], "entities": [{"customer_id": @}]}'),
    ("/v1/features/online", '{"features": ["profile:income"], "entities": {"customer_id": [@]}}'),
    ("/v1/features/online", '{"features": [@], "entities": [{"customer_id": 1}]}'),
]


@pytest.mark.parametrize(("path", "template"), DEEP_BODIES)
def test_values_nested_too_deeply_are_a_422(predict_client: Any, path: str, template: str) -> None:
    r = predict_client.post(path, content=body_with(template))
    assert_json_error(r, 422, f"deeper than {MAX_JSON_DEPTH} levels")


@pytest.mark.parametrize(("path", "template"), DEEP_BODIES)
def test_values_nested_within_the_limit_get_the_usual_field_error(
    predict_client: Any, path: str, template: str
) -> None:
    r = predict_client.post(path, content=body_with(template, depth=MAX_JSON_DEPTH - 6))
    assert 400 <= r.status_code < 500, r.text[:300]
    assert r.json()["error"]["message"]


def test_a_body_nested_past_the_parser_limit_is_a_422(predict_client: Any) -> None:
    r = predict_client.post("/v1/predict/credit", content=deep(depth=5000))
    assert_json_error(r, 422, "not valid JSON")


@pytest.mark.parametrize("value", ['"NaN"', '"Infinity"', '"1e400"', '"1_000"', "true", '"12"'])
@pytest.mark.parametrize("path", ["/v1/predict/credit", "/v1/predict/credit/batch"])
def test_numeric_features_must_be_json_numbers(predict_client: Any, path: str, value: str) -> None:
    body = income(value) if path.endswith("credit") else '{"rows": [' + income(value) + "]}"
    r = predict_client.post(path, content=body.encode())
    assert_json_error(r, 422, "'income'", "JSON number", value.strip('"'))


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "NaN", "Infinity"])
def test_non_finite_number_literals_are_not_json(predict_client: Any, literal: str) -> None:
    body = income(literal)
    assert_json_error(predict_client.post("/v1/predict/credit", content=body.encode()), 422)


@pytest.mark.parametrize("value", ["null", "1200", "1200.5", "0"])
def test_json_numbers_and_null_are_scored(predict_client: Any, value: str) -> None:
    body = income(value)
    r = predict_client.post("/v1/predict/credit", content=body.encode())
    assert r.status_code == 200, r.text
    assert 0.0 <= r.json()["score"] <= 1.0


# -- the admin routes over the real rollout service ------------------------------------------


@pytest.fixture(scope="module")
def rollout_template(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    return _rollout.build(tmp_path_factory.mktemp("never500-admin") / "credit", mlflow_template, 7)


def _admin_app(template: Path, root: Path) -> Any:
    service = _rollout.service(_rollout.copy(template, root / "credit"))

    def reader(features: list[str], rows: list[dict[str, Any]], full: bool) -> dict[str, Any]:
        return {"found": [False] * len(rows)}

    return create_app(reader, rollouts=service, admin_token=TOKENS)


@pytest.fixture
def admin(rollout_template: Path, tmp_path: Path) -> Iterator[Any]:
    with TestClient(_admin_app(rollout_template, tmp_path), raise_server_exceptions=False) as c:
        yield c


def _post(c: Any, path: str, body: Any, token: str = "d-tok") -> Any:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return c.post(path, content=content, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"strategy": {}}, ("strategy must be one of", "got {}")),
        ({"strategy": ["canary"]}, ("strategy must be one of", "got ['canary']")),
        ({"strategy": "single", "shadows": 5}, ("shadows must be a list", "got 5")),
        ({"strategy": "single", "shadows": "m/1"}, ("shadows must be a list", "got 'm/1'")),
        ({"strategy": "single", "shadows": [{}]}, ("shadow",)),
        (
            {"strategy": "canary", "candidate": "m/1", "stages": [{}]},
            ("stages must be percentages", "got [{}]"),
        ),
        (
            {"strategy": "canary", "candidate": "m/1", "stages": ["50", 100]},
            ("stages must be percentages", "got ['50', 100]"),
        ),
        ({"strategy": "canary", "candidate": "m/1", "stages": 5}, ("stages must be a list",)),
        ({"strategy": "canary", "candidate": {}}, ("model reference",)),
        ({"strategy": "canary", "candidate": "m/1", "gate": 5}, ("gate must be",)),
        ({"strategy": "ab", "arms": [{"name": {}, "model": "m/1"}]}, ("arm name",)),
        ({"strategy": "ab", "arms": [{}]}, ("arms[0]",)),
    ],
)
def test_odd_rollout_bodies_are_a_422_naming_the_field(
    admin: Any, body: dict[str, Any], words: tuple[str, ...]
) -> None:
    assert_json_error(_post(admin, ROLLOUT, body), 422, *words)


@pytest.mark.parametrize(
    "change",
    [{"stages": [{}]}, {"stages": 5}, {"shadows": 5}, {"gate": []}, {"state": {}}, {"stage": {}}],
)
def test_odd_rollout_changes_are_a_422(admin: Any, change: dict[str, Any]) -> None:
    created = _post(admin, ROLLOUT, {"strategy": "canary", "candidate": "credit-default/3"})
    assert created.status_code == 200, created.text
    assert_json_error(_post(admin, ROLLOUT, change), 422)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", ROLLOUT, "GET, POST"),  # served by a GET route and a POST route
        ("DELETE", ROLLOUT, "GET, POST"),
        ("GET", f"{ROLLOUT}/switch", "POST"),
        ("PATCH", "/v1/features/online", "POST"),
    ],
)
def test_a_405_names_every_method_the_path_accepts(
    admin: Any, method: str, path: str, allowed: str
) -> None:
    r = admin.request(method, path, headers={"Authorization": "Bearer d-tok"})
    assert_json_error(r, 405, f"accepts {allowed}")
    assert r.headers["allow"] == allowed


def test_labels_may_be_booleans_as_the_schema_says(predict_client: Any) -> None:
    schema = predict_client.get("/openapi.json").json()
    body = schema["paths"]["/v1/outcomes"]["post"]["requestBody"]["content"]["application/json"]
    label = body["schema"]["properties"]["outcomes"]["items"]["properties"]["label"]
    assert label["type"] == ["number", "boolean"]
    r = predict_client.post(
        "/v1/outcomes", json={"outcomes": [{"prediction_id": "p-bool", "label": False}]}
    )
    assert r.json() == {"accepted": 1}
    assert_json_error(
        predict_client.post(
            "/v1/outcomes", json={"outcomes": [{"prediction_id": "p", "label": "1"}]}
        ),
        422,
        "label must be a number or true/false",
    )


@pytest.mark.parametrize(
    "template",
    ['{"strategy": @}', '{"strategy": "single", "shadows": @}', '{"reason": @}', "@"],
)
@pytest.mark.parametrize("path", [ROLLOUT, f"{ROLLOUT}/switch", f"{ROLLOUT}/promote"])
def test_admin_bodies_nested_too_deeply_are_a_422(admin: Any, path: str, template: str) -> None:
    r = _post(admin, path, body_with(template), token="a-tok" if "promote" in path else "d-tok")
    assert_json_error(r, 422, f"deeper than {MAX_JSON_DEPTH} levels")


# -- hypothesis: odd JSON for every route ------------------------------------------------------

_SCALAR = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_JSON = st.recursive(
    _SCALAR,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_KEYS = st.sampled_from(
    ["entities", "features", "unit_id", "rows", "outcomes", "label", "prediction_id",
     "strategy", "shadows", "stages", "candidate", "arms", "gate", "reason", "customer_id",
     "full_feature_names", "income"]
)  # fmt: skip
_ODD = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=20,
)


def _dumps(value: Any) -> bytes:
    """Stdlib JSON: integers past 64 bits and ``Infinity`` are odd bodies worth sending too."""
    return json.dumps(value).encode()


def _nest(value: Any, depth: int) -> bytes:
    return deep(_dumps(value), depth)


_BODIES = (
    _ODD.map(_dumps)
    | _JSON.map(_dumps)
    | st.tuples(_ODD, st.integers(1, 400)).map(lambda t: _nest(*t))
    | st.binary(max_size=40)
)
PREDICT_ROUTES = ["/v1/predict/credit", "/v1/predict/credit/batch", "/v1/outcomes",
                  "/v1/features/online", "/v1/deployments/reload"]  # fmt: skip
ADMIN_ROUTES = [ROLLOUT, f"{ROLLOUT}/switch", f"{ROLLOUT}/promote", f"{ROLLOUT}/rollback"]

_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("path", PREDICT_ROUTES)
@_SETTINGS
@given(body=_BODIES)
def test_odd_bodies_never_get_a_5xx_on_the_predict_app(
    predict_client: Any, path: str, body: bytes
) -> None:
    r = predict_client.post(path, content=body, headers={"Authorization": "Bearer t"})
    assert r.status_code < 500, (r.status_code, r.text[:300])
    assert isinstance(r.json(), dict)


@pytest.fixture(scope="module")
def admin_module(rollout_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    app = _admin_app(rollout_template, tmp_path_factory.mktemp("never500-fuzz"))
    with TestClient(app, raise_server_exceptions=False) as c:
        created = _post(c, ROLLOUT, {"strategy": "canary", "candidate": "credit-default/3"})
        assert created.status_code == 200, created.text
        yield c


@pytest.mark.parametrize("path", ADMIN_ROUTES)
@_SETTINGS
@given(body=_BODIES, token=st.sampled_from(["d-tok", "a-tok"]))
def test_odd_bodies_never_get_a_5xx_on_the_real_rollout_service(
    admin_module: Any, path: str, body: bytes, token: str
) -> None:
    r = _post(admin_module, path, body, token)
    assert r.status_code < 500, (r.status_code, r.text[:300])
    assert isinstance(r.json(), dict)


# -- schemathesis: the published admin schema against the real rollout service ---------------

schemathesis = pytest.importorskip("schemathesis")
# Schema-valid bodies may name unknown models or break rollout rules, so a 4xx to them is right.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]
ADMIN_OPERATIONS = [
    ("/v1/deployments/{name}/rollout", "GET"),
    ("/v1/deployments/{name}/rollout", "POST"),
    ("/v1/deployments/{name}/rollout/history", "GET"),
    ("/v1/deployments/{name}/rollout/switch", "POST"),
    ("/v1/deployments/{name}/rollout/rollback", "POST"),
    ("/v1/deployments/{name}/rollout/promote", "POST"),
]


@pytest.fixture(scope="module")
def admin_schema(admin_module: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", admin_module.app)


@pytest.mark.parametrize(
    ("path", "method", "mode"),
    [
        (path, method, mode)
        for path, method in ADMIN_OPERATIONS
        for mode in ("positive", "negative")
        if not (mode == "negative" and method == "GET")  # a string path parameter only
    ],
)
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_admin_requests_against_the_real_service_never_get_a_5xx(
    admin_schema: Any, path: str, method: str, mode: str, data: st.DataObject
) -> None:
    operation = admin_schema[path][method]
    case = data.draw(operation.as_strategy(schemathesis.GenerationMode(mode)))
    token = data.draw(st.sampled_from([None, "v-tok", "d-tok", "a-tok", "junk"]))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)
