"""Loader snippets: split files bundle into one document that knows where each part came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.diagnostics import SpecError
from generator.load import load


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root / "openapi.yaml"


ROOT = """\
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /users:
    $ref: paths/users.yaml
"""
PATH = """\
get:
  operationId: listUsers
  responses:
    "200":
      description: ok
      content:
        application/json:
          schema:
            $ref: ../components/schemas/UserList.yaml
"""
USER_LIST = """\
type: object
properties:
  items:
    type: array
    items:
      $ref: User.yaml
"""
USER = """\
type: object
properties:
  on: {type: boolean}
  since: {type: string, examples: [2017-05-10]}
"""


def test_component_files_become_component_refs(tmp_path: Path) -> None:
    doc = load(
        write(
            tmp_path,
            {
                "openapi.yaml": ROOT,
                "paths/users.yaml": PATH,
                "components/schemas/UserList.yaml": USER_LIST,
                "components/schemas/User.yaml": USER,
            },
        )
    )
    op = doc.data["paths"]["/users"]["get"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/UserList"}
    assert doc.data["components"]["schemas"]["UserList"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/User"
    }
    # keys stay strings as written, dates stay strings
    user = doc.data["components"]["schemas"]["User"]
    assert "on" in user["properties"]
    assert user["properties"]["since"]["examples"] == ["2017-05-10"]


def test_origins_point_into_the_file_that_said_it(tmp_path: Path) -> None:
    doc = load(
        write(
            tmp_path,
            {
                "openapi.yaml": ROOT,
                "paths/users.yaml": PATH,
                "components/schemas/UserList.yaml": USER_LIST,
                "components/schemas/User.yaml": USER,
            },
        )
    )
    file, line = doc.locate("/paths/~1users/get/operationId")
    assert file.endswith("paths/users.yaml") and line == 2
    file, line = doc.locate("/components/schemas/User/properties/since")
    assert file.endswith("components/schemas/User.yaml") and line == 4
    # a pointer below what exists falls back to the nearest parent
    assert doc.locate("/components/schemas/User/properties/since/nothing")[1] == 4


def test_two_files_claiming_one_component_name_is_an_error(tmp_path: Path) -> None:
    path = PATH.replace("../components/schemas/UserList.yaml", "../components/schemas/User.yaml")
    path += """\
post:
  operationId: createUser
  responses:
    "200":
      description: ok
      content:
        application/json:
          schema:
            $ref: ../other/components/schemas/User.yaml
"""
    root = write(
        tmp_path,
        {
            "openapi.yaml": ROOT,
            "paths/users.yaml": path,
            "components/schemas/User.yaml": USER,
            "other/components/schemas/User.yaml": USER,
        },
    )
    with pytest.raises(SpecError) as info:
        load(root)
    assert "used by two files" in str(info.value)


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    root = write(tmp_path, {"openapi.yaml": ROOT + "paths:\n  /x: {}\n"})
    with pytest.raises(SpecError) as info:
        load(root)
    (problem,) = info.value.diagnostics
    assert problem.line == 6 and "duplicate key 'paths'" in problem.message
