"""The openapi-spec-validator gate of `cargo xtask lint`.

usage: python tools/validate_specs.py FILE ...

Validates each published document (OpenAPI 3.0 or 3.1, JSON or YAML, the version read from the
document) with openapi-spec-validator, and checks that each YAML document reads, with PyYAML (a
YAML 1.1 parser), as exactly the JSON document of the same name.
"""

import json
import pathlib
import sys

import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename


def main() -> int:
    passed = failed = 0
    for name in sys.argv[1:]:
        path = pathlib.Path(name)
        try:
            spec, _ = read_from_filename(str(path))
            validate(spec)
            if path.suffix == ".yaml":
                twin = path.with_suffix(".json")
                if yaml.safe_load(path.read_text()) != json.loads(twin.read_text()):
                    raise ValueError(f"PyYAML reads it differently from {twin}")
            print(f"ok: {path} (OpenAPI {spec['openapi']})")
            passed += 1
        except Exception as error:  # noqa: BLE001 (every failure is reported, then counted)
            print(f"FAILED: {path}: {type(error).__name__}: {error}")
            failed += 1
    print(f"openapi-spec-validator: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
