"""Schemathesis against the app's own OpenAPI spec: every operation, as a planner and as a street office.

A bounded, derandomised run (a few examples per operation) so it fits CI on 2 cores. Checks: no
5xx, status codes and content types documented, bodies and headers conform to the schema, invalid
input rejected. The city is seeded once per backend (PostGIS and GeoPackage).
"""

from __future__ import annotations

import os

import schemathesis
from seckit import SPEC
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

schema = schemathesis.openapi.from_dict(SPEC)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection]
ROLES = ("planner", "street1")
# 3 per operation in CI (about 20 s a backend); GRIDGOV_FUZZ_EXAMPLES=50 for a deeper run by hand.
EXAMPLES = int(os.environ.get("GRIDGOV_FUZZ_EXAMPLES", "3"))


def _httpx_files(files):
    """requests turns a non-file multipart value into text; httpx wants it done beforehand."""
    out = []
    for name, part in files:
        filename, content, *rest = part
        if not isinstance(content, (bytes, str)) and not hasattr(content, "read"):
            content = str(content)
        out.append((name, (filename, content, *rest)))
    return out


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
def test_api_conforms_to_its_spec(case, sec_client, sec_auth):
    for role in ROLES:
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=sec_auth[role])
        kwargs.pop("verify", None)
        kwargs.pop("allow_redirects", None)
        if kwargs.get("files"):
            kwargs["files"] = _httpx_files(kwargs["files"])
        elif isinstance(kwargs.get("data"), (bytes, str)):
            kwargs["content"] = kwargs.pop("data")  # raw bodies: httpx's name for them
        if not kwargs.get("cookies"):
            kwargs.pop("cookies", None)
        response = sec_client.request(**kwargs)
        response.request.read()  # multipart bodies stream; the checks read what was sent
        case.validate_response(response, checks=CHECKS)
