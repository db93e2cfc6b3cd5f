#!/usr/bin/env bash
# Installs the Python packages the API tests use (openpyxl reads our XLSX; the OpenAPI check validates replies;
# schemathesis generates requests from the spec),
# when they are missing.
set -euo pipefail
if ! python3 -c "import openpyxl, yaml, jsonschema, referencing, openapi_spec_validator" 2>/dev/null; then
    echo "installing Python packages: openpyxl pyyaml jsonschema openapi-spec-validator"
    python3 -m pip install --quiet --disable-pip-version-check openpyxl pyyaml jsonschema openapi-spec-validator
fi
# schemathesis: property-based tests of the live API from its OpenAPI spec (scripts/check-api-fuzz.sh).
if ! command -v schemathesis >/dev/null 2>&1; then
    echo "installing Python packages: schemathesis"
    python3 -m pip install --quiet --disable-pip-version-check "schemathesis>=4,<5"
fi
# The console's browser suite: selenium drives Debian's Chromium; axe-selenium-python ships axe-core.
if ! python3 -c "import selenium, axe_selenium_python, pytest" 2>/dev/null; then
    echo "installing Python packages: selenium axe-selenium-python pytest"
    python3 -m pip install --quiet --disable-pip-version-check selenium axe-selenium-python pytest
fi
