"""docs/bundle-spec.md and what export writes cannot drift: the tables are parsed from the document."""

import re

import pytest

from .conftest import REPO

SPEC = (REPO / "docs" / "bundle-spec.md").read_text()
SYMBOLIC = {"batch", "seq", "past", "total", "n_cond"}


def table_rows(heading: str) -> list[list[str]]:
    """Rows (cells) of the first markdown table after `heading`."""
    start = SPEC.index(heading)
    rows = []
    for line in SPEC[start:].splitlines()[1:]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set(cells[0]) <= set("-: "):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # drop the header row


def check_type(key: str, type_cell: str, value) -> None:
    literal = re.fullmatch(r'`"([^"]+)"`', type_cell)
    if literal:
        assert value == literal.group(1), key
    elif type_cell.startswith("int"):
        assert isinstance(value, int) and not isinstance(value, bool), key
        fixed = re.search(r"`(\d+)`", type_cell)
        if fixed:
            assert value == int(fixed.group(1)), key
    elif type_cell == "string":
        assert isinstance(value, str) and value, key
    elif type_cell == "object":
        assert isinstance(value, dict), key
    elif type_cell.startswith("{role:"):
        inner = re.findall(r"`(\w+)`", type_cell)
        assert isinstance(value, dict) and value
        for role, g in value.items():
            assert set(inner) <= set(g), f"graphs.{role} lacks {set(inner) - set(g)}"
    elif type_cell.startswith("[{"):
        inner = re.findall(r"`(\w+)`", type_cell)
        assert isinstance(value, list) and value
        for item in value:
            assert set(inner) == set(item), key
    elif type_cell.startswith("{"):
        # `name`? marks an optional key (absent = the default the spec states)
        required = re.findall(r"`(\w+)`(?!\?)", type_cell)
        listed = re.findall(r"`(\w+)`", type_cell)
        assert isinstance(value, dict), key
        assert set(required) <= set(value), f"{key} lacks {set(required) - set(value)}"
        assert set(value) <= set(listed), f"{key} has keys the spec does not list: {set(value) - set(listed)}"
    else:
        raise AssertionError(f"test does not understand the type {type_cell!r} of {key}")


def test_bundle_json_has_every_key_of_the_spec(exported_bundle):
    _, meta = exported_bundle
    rows = table_rows("## bundle.json")
    keys = []
    for cells in rows:
        key = re.fullmatch(r"`(\w+)`", cells[0]).group(1)
        keys.append(key)
        assert key in meta, f"bundle.json lacks {key!r}"
        check_type(key, cells[1], meta[key])
    assert set(meta) == set(keys), f"bundle.json has keys the spec does not list: {set(meta) - set(keys)}"
    # Details the table states in prose.
    assert len(meta["latent"]["rgb_preview"]["weights"]) == meta["latent"]["channels"]
    assert all(len(r) == 3 for r in meta["latent"]["rgb_preview"]["weights"])
    assert meta["condition"]["length"] == meta["image_tokens"]["count"] + 1
    gh, gw = meta["image_tokens"]["grid"]
    assert gh * gw == meta["image_tokens"]["count"]
    v = meta["vocab"]
    assert v["total"] == v["image_code_offset"] + v["image_codebook_size"]
    t = meta["tokenizer"]["templates"]
    assert "{prompt}" in t["generate"] and "{ref}" in t["edit"] and "{prompt}" in t["edit"]
    assert t["generate"].endswith("<|img_start|>") and t["edit"].endswith("<|img_start|>")
    listed = {f["path"] for f in meta["files"]}
    assert listed == {g["file"] for g in meta["graphs"].values()} | {meta["tokenizer"]["file"]}


def parse_tensors(cell: str, layers: int) -> list[tuple[str, str, list[str]]]:
    """'`a` int64 [batch, seq]; `b_{i}`, `c_{i}` float32 [...] …' -> [(name, dtype, shape tokens)]."""
    out = []
    for group, dtype, shape in re.findall(r"((?:`[\w{}]+`,?\s*)+)(int64|float32)\s+\[([^\]]+)\]", cell):
        names = re.findall(r"`([\w{}]+)`", group)
        dims = [d.strip() for d in shape.split(",")]
        if any("{i}" in n for n in names):
            for i in range(layers):
                out += [(n.replace("{i}", str(i)), dtype, dims) for n in names]
        else:
            out += [(n, dtype, dims) for n in names]
    return out


def dim_values(meta) -> dict:
    lat, ar = meta["latent"], meta["ar"]
    return {"C": lat["channels"], "h": lat["height"], "w": lat["width"], "H": meta["image"]["height"],
            "W": meta["image"]["width"], "kv_heads": ar["kv_heads"], "head_dim": ar["head_dim"],
            "hidden_size": ar["hidden_size"], "ar.hidden_size": ar["hidden_size"],
            "vocab.total": meta["vocab"]["total"], "connector.out_dim": meta["connector"]["out_dim"],
            "count": meta["image_tokens"]["count"]}


def test_every_graph_has_exactly_the_spec_io(exported_bundle):
    import onnx

    root, meta = exported_bundle
    rows = table_rows("## Graphs (roles)")
    roles = {}
    for cells in rows:
        roles[re.fullmatch(r"`(\w+)`", cells[0]).group(1)] = (cells[1], cells[2])
    assert set(roles) == set(meta["graphs"]), "graph roles differ between the spec and bundle.json"
    values = dim_values(meta)
    for role, (ins, outs) in roles.items():
        g = meta["graphs"][role]
        model = onnx.load(str(root / g["file"]))
        for side, cell, onnx_side in (("inputs", ins, model.graph.input), ("outputs", outs, model.graph.output)):
            want = parse_tensors(cell, meta["ar"]["layers"])
            assert want, f"could not parse the spec's {role} {side}"
            got = g[side]
            assert [w[0] for w in want] == [t["name"] for t in got], f"{role} {side} names"
            assert [t["name"] for t in got] == [v.name for v in onnx_side], f"{role}.onnx {side} names"
            for (name, dtype, dims), t, v in zip(want, got, onnx_side):
                assert t["dtype"] == dtype, f"{role}.{name} dtype"
                expected = [d if d in SYMBOLIC else int(d) if d.isdigit() else values[d] for d in dims]
                assert t["shape"] == expected, f"{role}.{name} shape {t['shape']} != spec {expected}"
                onnx_dims = [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
                assert len(onnx_dims) == len(expected), f"{role}.onnx {name} rank"
                for od, ed in zip(onnx_dims, expected):
                    if isinstance(ed, int):
                        assert od == ed, f"{role}.onnx {name}: dim {od} != {ed}"
                    else:
                        assert isinstance(od, str), f"{role}.onnx {name}: {ed} must be a dynamic axis"


def test_spec_names_its_version():
    from modeling.bundle import SUPPORTED_VERSION
    from modeling.export import FORMAT_VERSION

    assert f"format version {FORMAT_VERSION}" in SPEC.splitlines()[0]
    assert SUPPORTED_VERSION == FORMAT_VERSION
