"""Checks the server's metrics with real parsers, for tests/tests/metrics.rs.

    metrics_check.py emf LINES_FILE   each line: an EMF document, validated against the EMF
                                      specification's schema (emf_schema.json, with jsonschema)
                                      and the rules a schema cannot say (every dimension and
                                      metric a directive names is a member of the root: a string
                                      of at most 1024 characters, or a number or array of at most
                                      100 numbers); prints the documents.
    metrics_check.py prom TEXT_FILE   parsed by the official Prometheus client's text parser;
                                      prints every family with its type and samples.

The report is one JSON object on the last line of stdout; a violation exits non-zero.
"""

import json
import math
import pathlib
import sys

import jsonschema
from prometheus_client.parser import text_string_to_metric_families

HERE = pathlib.Path(__file__).parent


def check_emf(path):
    schema = json.loads((HERE / "emf_schema.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    documents = []
    for number, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        document = json.loads(line)
        errors = sorted(validator.iter_errors(document), key=str)
        if errors:
            sys.exit(f"line {number}: not EMF: {errors[0].message} at {list(errors[0].path)}")
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                for key in dimension_set:
                    value = document.get(key)
                    if not isinstance(value, str) or len(value) > 1024:
                        sys.exit(f"line {number}: dimension {key!r} is not a root string: {value!r}")
            for metric in directive["Metrics"]:
                value = document.get(metric["Name"])
                numbers = value if isinstance(value, list) else [value]
                if len(numbers) > 100 or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    for v in numbers
                ):
                    sys.exit(f"line {number}: metric {metric['Name']!r} is not numeric: {value!r}")
        documents.append(document)
    print(json.dumps({"documents": documents}))


def check_prometheus(path):
    families = {}
    for family in text_string_to_metric_families(pathlib.Path(path).read_text()):
        families[family.name] = {
            "type": family.type,
            "help": family.documentation,
            "samples": [
                {"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples
            ],
        }
    print(json.dumps({"families": families}))


if __name__ == "__main__":
    {"emf": check_emf, "prom": check_prometheus}[sys.argv[1]](sys.argv[2])
