#!/usr/bin/env python3
"""Generate the ONNX test fixtures under Fixtures/onnx/.

Deterministic: fixed seeds and no timestamps, so running it twice gives
byte-identical files. Requires the packages pinned in tools/requirements.txt.

    python tools/make_onnx_fixtures.py
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import AttributeProto, TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fixtures", "onnx")
VALID = os.path.join(OUT, "valid")
MALFORMED = os.path.join(OUT, "malformed")

PRODUCER = "ferry-fixtures"
DEEP_NESTING_CYCLES = 20000  # Attribute.g -> Graph.node -> Node.attribute cycles

if sys.byteorder != "little":
    raise SystemExit("this script assumes a little-endian host")


# ---------------------------------------------------------------- helpers


def np_dtype(code: int) -> np.dtype:
    return helper.tensor_dtype_to_np_dtype(code)


def dtype_name(code: int) -> str:
    return TensorProto.DataType.Name(code)


def write_bytes(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def write_model(path: str, model: onnx.ModelProto) -> None:
    write_bytes(path, model.SerializeToString())


def write_json(path: str, obj) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def model(graph, opset=17, ir=8, extra_opsets=(), **kw) -> onnx.ModelProto:
    opsets = [helper.make_opsetid("", opset)]
    opsets += [helper.make_opsetid(d, v) for d, v in extra_opsets]
    m = helper.make_model(graph, opset_imports=opsets, ir_version=ir, **kw)
    if not m.producer_name:
        m.producer_name = PRODUCER
    return m


def vinfo(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def pack4(values) -> bytes:
    """Pack 4-bit values two per byte, low nibble first (ONNX raw_data layout)."""
    nib = [int(v) & 0xF for v in values]
    if len(nib) % 2:
        nib.append(0)
    return bytes(nib[i] | (nib[i + 1] << 4) for i in range(0, len(nib), 2))


FOUR_BIT = {TensorProto.INT4, TensorProto.UINT4, TensorProto.FLOAT4E2M1}


def canonical_bytes(t: TensorProto, base_dir: str = "") -> bytes:
    arr = numpy_helper.to_array(t, base_dir)
    if t.data_type in FOUR_BIT:
        if t.data_type == TensorProto.FLOAT4E2M1:
            return pack4(arr.reshape(-1).view(np.uint8))
        return pack4(arr.reshape(-1).astype(np.int8))
    return arr.tobytes()


def storage_form(t: TensorProto) -> str:
    if t.data_location == TensorProto.EXTERNAL:
        return "external"
    if t.HasField("raw_data"):
        return "raw_data"
    for field in ("float_data", "int32_data", "string_data", "int64_data",
                  "double_data", "uint64_data"):
        if len(getattr(t, field)):
            return field
    return "none"


# ---------------------------------------------------------------- storage_forms

NAN, INF = float("nan"), float("inf")


def storage_specs():
    """(name, data_type, dims, values, raw, expected form)."""
    T = TensorProto
    f32 = [1.5, -0.0, NAN, INF, -INF, 3.4028234663852886e38, 1e-45, -2.0]
    f64 = [1.5, -0.0, NAN, INF, -INF, sys.float_info.max, 5e-324, -2.0]
    f16 = [1.0, -0.0, NAN, INF, -INF, 65504.0, 6e-08, -2.0]
    ii = np.iinfo
    specs = [
        # raw_data for every fixed-width type
        ("raw_float32", T.FLOAT, [2, 4], f32, True, "raw_data"),
        ("raw_float64", T.DOUBLE, [8], f64, True, "raw_data"),
        ("raw_float16", T.FLOAT16, [8], f16, True, "raw_data"),
        ("raw_bfloat16", T.BFLOAT16, [8], f16[:5] + [3.140625, -1e30, 1.0], True, "raw_data"),
        ("raw_int8", T.INT8, [4], [ii(np.int8).min, ii(np.int8).max, 0, -1], True, "raw_data"),
        ("raw_uint8", T.UINT8, [3], [0, 255, 1], True, "raw_data"),
        ("raw_int16", T.INT16, [4], [ii(np.int16).min, ii(np.int16).max, 0, -1], True, "raw_data"),
        ("raw_uint16", T.UINT16, [3], [0, 65535, 258], True, "raw_data"),
        ("raw_int32", T.INT32, [4], [ii(np.int32).min, ii(np.int32).max, 0, -1], True, "raw_data"),
        ("raw_uint32", T.UINT32, [3], [0, 2**32 - 1, 0x01020304], True, "raw_data"),
        ("raw_int64", T.INT64, [4], [-2**63, 2**63 - 1, 0, -1], True, "raw_data"),
        ("raw_uint64", T.UINT64, [3], [0, 2**64 - 1, 0x0102030405060708], True, "raw_data"),
        ("raw_bool", T.BOOL, [2, 2], [True, False, False, True], True, "raw_data"),
        # typed fields
        ("float_data_float32", T.FLOAT, [8], f32, False, "float_data"),
        ("int32_data_int8", T.INT8, [4], [-128, 127, 0, -1], False, "int32_data"),
        ("int32_data_int16", T.INT16, [4], [-32768, 32767, 0, -1], False, "int32_data"),
        ("int32_data_uint8", T.UINT8, [3], [0, 255, 7], False, "int32_data"),
        ("int32_data_uint16", T.UINT16, [3], [0, 65535, 258], False, "int32_data"),
        ("int32_data_int32", T.INT32, [4], [-2**31, 2**31 - 1, 0, -1], False, "int32_data"),
        ("int32_data_bool", T.BOOL, [3], [True, False, True], False, "int32_data"),
        ("int32_data_float16", T.FLOAT16, [8], f16, False, "int32_data"),
        ("int32_data_bfloat16", T.BFLOAT16, [6], [1.0, -0.0, NAN, INF, 3.140625, -2.0], False, "int32_data"),
        ("int64_data_int64", T.INT64, [4], [-2**63, 2**63 - 1, 0, -1], False, "int64_data"),
        ("double_data_float64", T.DOUBLE, [8], f64, False, "double_data"),
        ("uint64_data_uint32", T.UINT32, [3], [0, 2**32 - 1, 0x01020304], False, "uint64_data"),
        ("uint64_data_uint64", T.UINT64, [3], [0, 2**64 - 1, 0x0102030405060708], False, "uint64_data"),
        ("string_data", T.STRING, [2, 2], ["hello", "héllo wörld ✓ 日本語", "", "rocket 🚀"], False, "string_data"),
        ("float_data_complex64", T.COMPLEX64, [3], [1 + 2j, complex(-0.0, INF), complex(NAN, -1.5)], False, "float_data"),
        ("double_data_complex128", T.COMPLEX128, [2], [1 + 2j, complex(-0.0, -3.25)], False, "double_data"),
        # shape edge cases
        ("scalar_float32_raw", T.FLOAT, [], [42.5], True, "raw_data"),
        ("scalar_int64_typed", T.INT64, [], [-7], False, "int64_data"),
        ("empty_float32_raw", T.FLOAT, [2, 0, 3], [], True, "raw_data"),
        ("empty_int64_typed", T.INT64, [0], [], False, "none"),
        # 8-bit floats and 4-bit ints as make_tensor stores them
        ("float8e4m3fn_typed", T.FLOAT8E4M3FN, [6], [1.0, -0.0, 448.0, -448.0, NAN, 0.001953125], False, "int32_data"),
        ("float8e4m3fn_raw", T.FLOAT8E4M3FN, [6], [1.0, -0.0, 448.0, -448.0, NAN, 0.001953125], True, "raw_data"),
        ("float8e5m2_typed", T.FLOAT8E5M2, [5], [1.0, -0.0, 57344.0, -57344.0, NAN], False, "int32_data"),
        ("int4_typed", T.INT4, [5], [-8, 7, 0, 1, -1], False, "int32_data"),
        ("int4_raw", T.INT4, [5], [-8, 7, 0, 1, -1], True, "raw_data"),
        ("uint4_raw", T.UINT4, [2, 2], [0, 15, 9, 6], True, "raw_data"),
    ]
    return specs


def make_storage_tensor(name, dt, dims, values, raw):
    if dt == TensorProto.STRING:
        arr = np.array([v.encode("utf-8") for v in values], dtype=object)
        return helper.make_tensor(name, dt, dims, list(arr)), arr
    arr = np.array(values, dtype=np_dtype(dt)).reshape(dims)
    if raw:
        t = helper.make_tensor(name, dt, dims, arr, raw=True)
    else:
        t = helper.make_tensor(name, dt, dims, arr.reshape(-1))
    return t, arr


def build_storage_forms():
    inits, nodes, outputs, expect = [], [], [], []
    for name, dt, dims, values, raw, form in storage_specs():
        t, arr = make_storage_tensor(name, dt, dims, values, raw)
        got_form = storage_form(t)
        if got_form != form:
            raise SystemExit(f"{name}: expected form {form}, make_tensor gave {got_form}")
        back = numpy_helper.to_array(t)
        if dt == TensorProto.STRING:
            # to_array decodes string tensors to str
            if [v if isinstance(v, bytes) else v.encode("utf-8") for v in back.reshape(-1)] != list(arr):
                raise SystemExit(f"{name}: string values changed")
        elif back.tobytes() != arr.tobytes():
            raise SystemExit(f"{name}: to_array differs from the source array")
        entry = {"name": name, "data_type": dt, "data_type_name": dtype_name(dt),
                 "dims": list(dims), "form": form}
        if dt == TensorProto.STRING:
            entry["strings_hex"] = [s.hex() for s in t.string_data]
        else:
            entry["hex"] = canonical_bytes(t).hex()
        expect.append(entry)
        inits.append(t)
        nodes.append(helper.make_node("Identity", [name], [f"out_{name}"], name=f"id_{name}"))
        outputs.append(vinfo(f"out_{name}", dt, list(dims)))
    # Booleans stored as arbitrary non-zero int32 entries: readers must normalise them to 0/1.
    t = TensorProto(name="int32_data_bool_nonzero", data_type=TensorProto.BOOL, dims=[3], int32_data=[2, 0, -1])
    expect.append({"name": t.name, "data_type": TensorProto.BOOL, "data_type_name": "BOOL", "dims": [3],
                   "form": "int32_data", "hex": (np.array(t.int32_data) != 0).astype(np.bool_).tobytes().hex()})
    inits.append(t)
    nodes.append(helper.make_node("Identity", [t.name], [f"out_{t.name}"], name=f"id_{t.name}"))
    outputs.append(vinfo(f"out_{t.name}", TensorProto.BOOL, [3]))
    g = helper.make_graph(nodes, "storage_forms", [], outputs, initializer=inits)
    return model(g, opset=21, ir=10), expect


# ---------------------------------------------------------------- constant_nodes


def build_constant_nodes():
    T = TensorProto
    sp = helper.make_sparse_tensor(
        helper.make_tensor("sp_values", T.FLOAT, [3], [1.5, -2.0, 4.0]),
        helper.make_tensor("sp_indices", T.INT64, [3], [0, 5, 11]),
        [3, 4])
    specs = [
        ("c_value", dict(value=helper.make_tensor("c_value_t", T.FLOAT, [2, 2],
                                                   np.array([1.0, -0.0, 2.5, -3.0], np.float32), raw=True)),
         vinfo("c_value", T.FLOAT, [2, 2])),
        ("c_value_float", dict(value_float=3.5), vinfo("c_value_float", T.FLOAT, [])),
        ("c_value_floats", dict(value_floats=[1.0, -0.0, 2.5]), vinfo("c_value_floats", T.FLOAT, [3])),
        ("c_value_int", dict(value_int=-7), vinfo("c_value_int", T.INT64, [])),
        ("c_value_ints", dict(value_ints=[1, -2, 2**40]), vinfo("c_value_ints", T.INT64, [3])),
        ("c_value_string", dict(value_string="héllo"), vinfo("c_value_string", T.STRING, [])),
        ("c_value_strings", dict(value_strings=["a", "", "日本"]), vinfo("c_value_strings", T.STRING, [3])),
        ("c_sparse_value", dict(sparse_value=sp), vinfo("c_sparse_value", T.FLOAT, [3, 4])),
    ]
    nodes = [helper.make_node("Constant", [], [out], name=f"const_{out}", **kw) for out, kw, _ in specs]
    g = helper.make_graph(nodes, "constant_nodes", [], [vi for _, _, vi in specs])
    return model(g)


# ---------------------------------------------------------------- attributes


def type_summary(tp: onnx.TypeProto) -> str:
    kind = tp.WhichOneof("value")
    if kind in ("tensor_type", "sparse_tensor_type"):
        tt = getattr(tp, kind)
        s = dtype_name(tt.elem_type).lower()
        if tt.HasField("shape"):
            dims = []
            for d in tt.shape.dim:
                w = d.WhichOneof("value")
                dims.append(str(d.dim_value) if w == "dim_value" else d.dim_param if w == "dim_param" else "?")
            s += ",[" + ",".join(dims) + "]"
        return ("tensor" if kind == "tensor_type" else "sparse_tensor") + f"({s})"
    if kind == "sequence_type":
        return f"sequence({type_summary(tp.sequence_type.elem_type)})"
    if kind == "map_type":
        return f"map({dtype_name(tp.map_type.key_type).lower()},{type_summary(tp.map_type.value_type)})"
    if kind == "optional_type":
        return f"optional({type_summary(tp.optional_type.elem_type)})"
    raise ValueError(kind)


def tensor_summary(t: TensorProto):
    return {"name": t.name, "dims": list(t.dims), "data_type": t.data_type}


def sparse_summary(s: onnx.SparseTensorProto):
    return {"dims": list(s.dims), "values": tensor_summary(s.values), "indices": tensor_summary(s.indices)}


def attribute_summary(a: AttributeProto):
    A = AttributeProto
    return {
        A.FLOAT: lambda: a.f,
        A.INT: lambda: a.i,
        A.STRING: lambda: a.s.decode("utf-8"),
        A.TENSOR: lambda: tensor_summary(a.t),
        A.GRAPH: lambda: {"name": a.g.name, "nodes": len(a.g.node)},
        A.SPARSE_TENSOR: lambda: sparse_summary(a.sparse_tensor),
        A.TYPE_PROTO: lambda: type_summary(a.tp),
        A.FLOATS: lambda: list(a.floats),
        A.INTS: lambda: list(a.ints),
        A.STRINGS: lambda: [s.decode("utf-8") for s in a.strings],
        A.TENSORS: lambda: [tensor_summary(t) for t in a.tensors],
        A.GRAPHS: lambda: [{"name": g.name, "nodes": len(g.node)} for g in a.graphs],
        A.SPARSE_TENSORS: lambda: [sparse_summary(s) for s in a.sparse_tensors],
        A.TYPE_PROTOS: lambda: [type_summary(t) for t in a.type_protos],
    }[a.type]()


def small_graph(name, n_nodes):
    nodes, prev = [], "gin"
    for i in range(n_nodes):
        out = "gout" if i == n_nodes - 1 else f"{name}_t{i}"
        nodes.append(helper.make_node("Identity", [prev], [out], name=f"{name}_n{i}"))
        prev = out
    return helper.make_graph(nodes, name, [vinfo("gin", TensorProto.FLOAT, [2])],
                             [vinfo("gout", TensorProto.FLOAT, [2])])


def build_attributes():
    T, A = TensorProto, AttributeProto
    sparse1 = helper.make_sparse_tensor(
        helper.make_tensor("attr_sp_values", T.FLOAT, [2], [0.5, -1.0]),
        helper.make_tensor("attr_sp_indices", T.INT64, [2, 2], [0, 1, 2, 3]),
        [3, 4])
    sparse2 = helper.make_sparse_tensor(
        helper.make_tensor("attr_sp2_values", T.INT32, [1], [42]),
        helper.make_tensor("attr_sp2_indices", T.INT64, [1], [4]),
        [5])
    types = [
        helper.make_sequence_type_proto(helper.make_tensor_type_proto(T.INT64, [None])),
        helper.make_map_type_proto(T.STRING, helper.make_tensor_type_proto(T.FLOAT, [2])),
        helper.make_optional_type_proto(helper.make_tensor_type_proto(T.INT32, [2])),
        helper.make_sparse_tensor_type_proto(T.FLOAT, [10, "M"]),
        helper.make_tensor_type_proto(T.FLOAT16, [1, 2, 3]),
    ]
    kinds = [
        ("FLOAT", 0.25),
        ("INT", -(2**40)),
        ("STRING", "ünïcode ✓"),
        ("TENSOR", helper.make_tensor("attr_t", T.INT32, [3], np.array([1, -2, 3], np.int32), raw=True)),
        ("GRAPH", small_graph("attr_g", 1)),
        ("SPARSE_TENSOR", sparse1),
        ("TYPE_PROTO", helper.make_tensor_type_proto(T.FLOAT, ["N", 3, None], ["DATA_BATCH", "DATA_CHANNEL", ""])),
        ("FLOATS", [1.0, -0.5, 1e-3]),
        ("INTS", [0, -1, 2**62]),
        ("STRINGS", ["a", "", "日本語"]),
        ("TENSORS", [helper.make_tensor("attr_ts0", T.FLOAT16, [2], [1.0, -2.0]),
                     helper.make_tensor("attr_ts1", T.STRING, [1], ["x"])]),
        ("GRAPHS", [small_graph("attr_gs0", 1), small_graph("attr_gs1", 2)]),
        ("SPARSE_TENSORS", [sparse1, sparse2]),
        ("TYPE_PROTOS", types),
    ]
    nodes, expect, prev = [], [], "x"
    for i, (kind, value) in enumerate(kinds):
        attr = helper.make_attribute(f"a_{kind.lower()}", value, doc_string=f"attribute of type {kind}",
                                     attr_type=getattr(A, kind))
        assert attr.type == getattr(A, kind), kind
        out = "y" if i == len(kinds) - 1 else f"t{i}"
        node = helper.make_node("Carrier", [prev], [out], name=f"n_{kind.lower()}", domain="ferry.test")
        node.attribute.append(attr)
        nodes.append(node)
        prev = out
        expect.append({"node": node.name, "attribute": attr.name, "type": attr.type,
                       "type_name": kind, "doc_string": attr.doc_string,
                       "value": attribute_summary(attr)})
    g = helper.make_graph(nodes, "attributes", [vinfo("x", T.FLOAT, [2])], [vinfo("y", T.FLOAT, [2])])
    return model(g, extra_opsets=[("ferry.test", 1)]), expect


# ---------------------------------------------------------------- subgraphs


def build_subgraphs():
    T = TensorProto
    f3 = lambda n: vinfo(n, T.FLOAT, [3])
    then_g = helper.make_graph([helper.make_node("Add", ["x", "bias"], ["then_out"], name="then_add")],
                               "then_branch", [], [f3("then_out")])
    else_g = helper.make_graph([helper.make_node("Mul", ["x", "bias"], ["else_out"], name="else_mul")],
                               "else_branch", [], [f3("else_out")])
    # Loop body: carried acc += bias; scan output uses a nested If on the
    # outermost input "cond" whose branches read "bias" / "x" two scopes up.
    inner_then = helper.make_graph([helper.make_node("Mul", ["acc_out", "bias"], ["s_then"], name="inner_mul")],
                                   "inner_then", [], [f3("s_then")])
    inner_else = helper.make_graph([helper.make_node("Sub", ["acc_out", "x"], ["s_else"], name="inner_sub")],
                                   "inner_else", [], [f3("s_else")])
    body = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "bias"], ["acc_out"], name="body_add"),
         helper.make_node("Identity", ["cond_in"], ["cond_out"], name="body_cond"),
         helper.make_node("If", ["cond"], ["scan_s"], name="body_if", then_branch=inner_then, else_branch=inner_else)],
        "loop_body",
        [vinfo("iter", T.INT64, []), vinfo("cond_in", T.BOOL, []), f3("acc_in")],
        [vinfo("cond_out", T.BOOL, []), f3("acc_out"), f3("scan_s")])
    nodes = [
        helper.make_node("If", ["cond"], ["y_if"], name="if0", then_branch=then_g, else_branch=else_g),
        helper.make_node("Loop", ["trip", "loop_cond", "x"], ["loop_final", "loop_scan"], name="loop0", body=body),
    ]
    inits = [
        helper.make_tensor("bias", T.FLOAT, [3], np.array([0.5, -1.0, 2.0], np.float32), raw=True),
        helper.make_tensor("trip", T.INT64, [], [3]),
        helper.make_tensor("loop_cond", T.BOOL, [], [True]),
    ]
    g = helper.make_graph(nodes, "subgraphs", [vinfo("cond", T.BOOL, []), f3("x")],
                          [f3("y_if"), f3("loop_final"), vinfo("loop_scan", T.FLOAT, [3, 3])],
                          initializer=inits)
    return model(g)


# ---------------------------------------------------------------- metadata


def props(m, pairs):
    for k, v in pairs:
        m.metadata_props.add(key=k, value=v)


def build_metadata():
    T, A = TensorProto, AttributeProto
    x = vinfo("x", T.FLOAT, ["batch", 4])
    x.doc_string = "model input"
    x.type.denotation = "TENSOR"
    x.type.tensor_type.shape.dim[0].denotation = "DATA_BATCH"
    x.type.tensor_type.shape.dim[1].denotation = "DATA_FEATURE"
    props(x, [("role", "input")])
    y = vinfo("y", T.FLOAT, ["batch", 4])
    y.doc_string = "model output"
    h1 = vinfo("h1", T.FLOAT, ["batch", None])
    h1.doc_string = "intermediate with one unknown dim"
    props(h1, [("stage", "1")])
    h2 = vinfo("h2", T.FLOAT, ["batch", 4])
    h2.type.tensor_type.shape.dim[1].denotation = "DATA_FEATURE"

    w = helper.make_tensor("w", T.FLOAT, [4], np.array([1.0, 2.0, -3.0, 0.5], np.float32), raw=True)
    w.doc_string = "a weight"
    props(w, [("origin", "seed-free constant")])
    q_scale = helper.make_tensor("q_scale", T.FLOAT, [], [0.125])
    q_zp = helper.make_tensor("q_zp", T.UINT8, [], [128])
    sp = helper.make_sparse_tensor(
        helper.make_tensor("sp", T.FLOAT, [2], [0.5, -0.25]),
        helper.make_tensor("sp_indices", T.INT64, [2], [1, 3]),
        [4])

    alpha_default = helper.make_attribute("alpha", 2.0)
    fn = helper.make_function(
        "ferry.local", "ScaledAdd", ["X", "Y"], ["Z"],
        [helper.make_node("Constant", [], ["a"], name="fn_alpha"),
         helper.make_node("Mul", ["X", "a"], ["t"], name="fn_mul"),
         helper.make_node("Add", ["t", "Y"], ["Z"], name="fn_add")],
        [helper.make_opsetid("", 17)],
        attribute_protos=[alpha_default],
        doc_string="Z = alpha * X + Y")
    fn.node[0].attribute.append(helper.make_attribute_ref("value_float", A.FLOAT, ref_attr_name="alpha"))
    props(fn, [("kind", "model-local function")])

    n1 = helper.make_node("ScaledAdd", ["x", "w"], ["h1"], name="scaled_add_default", domain="ferry.local",
                          doc_string="uses the default alpha")
    n2 = helper.make_node("ScaledAdd", ["h1", "sp"], ["h2"], name="scaled_add_half", domain="ferry.local", alpha=0.5)
    n3 = helper.make_node("Relu", ["h2"], ["y"], name="relu", doc_string="final activation")
    props(n3, [("note", "node metadata")])

    g = helper.make_graph([n1, n2, n3], "metadata_graph", [x], [y], initializer=[w, q_scale, q_zp],
                          doc_string="graph doc string", value_info=[h1, h2], sparse_initializer=[sp])
    props(g, [("graph_key", "graph value")])
    qa = g.quantization_annotation.add(tensor_name="w")
    qa.quant_parameter_tensor_names.add(key="SCALE_TENSOR", value="q_scale")
    qa.quant_parameter_tensor_names.add(key="ZERO_POINT_TENSOR", value="q_zp")

    init_graph = helper.make_graph(
        [helper.make_node("Constant", [], ["w_init"], name="init_w",
                          value=helper.make_tensor("w_init_value", T.FLOAT, [4], [0.0, 0.0, 0.0, 0.0]))],
        "initialization", [], [vinfo("w_init", T.FLOAT, [4])])
    algo_graph = helper.make_graph(
        [helper.make_node("Mul", ["w", "lr"], ["w_step"], name="algo_mul"),
         helper.make_node("Sub", ["w", "w_step"], ["w_new"], name="algo_sub")],
        "algorithm", [], [vinfo("w_new", T.FLOAT, [4])],
        initializer=[helper.make_tensor("lr", T.FLOAT, [], [0.01])])
    ti = helper.make_training_info(algo_graph, [("w", "w_new")], init_graph, [("w", "w_init")])

    m = model(g, ir=10, extra_opsets=[("ferry.local", 1)], functions=[fn],
              producer_version="1.0", domain="org.ferry.test", model_version=7,
              doc_string="model doc string: ünïcode ✓")
    m.training_info.append(ti)
    props(m, [("author", "ferry"), ("license", "Apache-2.0"), ("unicode", "ünï ✓")])
    return m


# ---------------------------------------------------------------- external data


def ext_tensor(name, dt, dims, location, offset=None, length=None):
    t = TensorProto(name=name, data_type=dt, dims=dims)
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value=location)
    if offset is not None:
        t.external_data.add(key="offset", value=str(offset))
    if length is not None:
        t.external_data.add(key="length", value=str(length))
    return t


def build_external():
    T = TensorProto
    rs = np.random.RandomState(2)
    w1 = rs.uniform(-1, 1, (4, 4)).astype(np.float32)
    w2 = rs.uniform(-1, 1, (4,)).astype(np.float32)
    w3 = np.array([0.25, -0.5, 1.0, 0.0], np.float32)
    # weights.bin: w1 at 0 (64 bytes), filler 0xEE, w2 at 128 (16 bytes), 16 trailing filler bytes
    data = bytearray(b"\xee" * 160)
    data[0:64] = w1.tobytes()
    data[128:144] = w2.tobytes()
    # data/extra.bin: w4 in a subfolder (a valid location; tests swap the folder for a link)
    w4 = np.array([2.0, 0.5, -1.0, 3.0], np.float32)
    inits = [ext_tensor("w1", T.FLOAT, [4, 4], "weights.bin", 0, 64),
             ext_tensor("w2", T.FLOAT, [4], "weights.bin", 128, 16),
             helper.make_tensor("w3", T.FLOAT, [4], w3, raw=True),
             ext_tensor("w4", T.FLOAT, [4], "data/extra.bin", 0, 16)]
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["a"], name="matmul"),
         helper.make_node("Add", ["a", "w2"], ["b"], name="add_w2"),
         helper.make_node("Add", ["b", "w3"], ["c"], name="add_w3"),
         helper.make_node("Mul", ["c", "w4"], ["y"], name="mul_w4")],
        "external", [vinfo("x", T.FLOAT, [1, 4])], [vinfo("y", T.FLOAT, [1, 4])], initializer=inits)
    return model(g), bytes(data), w4.tobytes()


# ---------------------------------------------------------------- small_cnn


def build_small_cnn():
    T = TensorProto
    rs = np.random.RandomState(0)

    def w(name, shape, scale):
        return numpy_helper.from_array((rs.standard_normal(shape) * scale).astype(np.float32), name)

    inits = [w("conv1.weight", (4, 1, 3, 3), 0.3), w("conv1.bias", (4,), 0.1),
             w("conv2.weight", (8, 4, 3, 3), 0.15), w("conv2.bias", (8,), 0.1),
             w("fc.weight", (10, 8 * 8 * 8), 0.05), w("fc.bias", (10,), 0.1)]
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["c1"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], name="conv2",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Flatten", ["r2"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["output"], name="softmax", axis=1),
    ]
    g = helper.make_graph(nodes, "small_cnn", [vinfo("input", T.FLOAT, [1, 1, 16, 16])],
                          [vinfo("output", T.FLOAT, [1, 10])], initializer=inits)
    return model(g, opset=17, ir=8)


# ---------------------------------------------------------------- wire helpers (malformed)


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field: int, wire: int) -> bytes:
    return varint((field << 3) | wire)


def len_field(field: int, payload: bytes) -> bytes:
    return key(field, 2) + varint(len(payload)) + payload


def top_level_field_at(data: bytes, pos: int) -> int:
    """Number of the top-level field whose encoding spans byte offset pos."""
    i = 0
    while i < len(data):
        start = i
        tag, i = read_varint(data, i)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            _, i = read_varint(data, i)
        elif wire == 2:
            n, i = read_varint(data, i)
            i += n
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError(wire)
        if start <= pos < i:
            return field
    raise ValueError("offset past the end")


def read_varint(data: bytes, i: int):
    shift = value = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def deep_nesting_bytes(cycles: int) -> bytes:
    """ModelProto whose graph nests Graph.node(1) -> Node.attribute(5) -> Attribute.g(6) `cycles` times.

    Lengths are computed inside-out first, then the prefixes are written
    outside-in, so building it is linear in the file size."""
    sizes = []  # (node_len, attr_len, inner_graph_len) per level, innermost first
    graph_len = 0
    for _ in range(cycles):
        attr_len = 1 + len(varint(graph_len)) + graph_len
        node_len = 1 + len(varint(attr_len)) + attr_len
        sizes.append((node_len, attr_len, graph_len))
        graph_len = 1 + len(varint(node_len)) + node_len
    body = bytearray()
    for node_len, attr_len, inner_len in reversed(sizes):
        body += key(1, 2) + varint(node_len) + key(5, 2) + varint(attr_len) + key(6, 2) + varint(inner_len)
    assert len(body) == graph_len
    header = key(1, 0) + varint(8) + len_field(8, key(2, 0) + varint(17))  # ir_version, opset_import
    return header + key(7, 2) + varint(graph_len) + bytes(body)


# ---------------------------------------------------------------- malformed models


def weight_model(w: TensorProto, name: str) -> onnx.ModelProto:
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add_w")], name,
                          [vinfo("x", TensorProto.FLOAT, [4])], [vinfo("y", TensorProto.FLOAT, [4])],
                          initializer=[w])
    return model(g)


def build_malformed(small_cnn_bytes: bytes):
    T = TensorProto
    files, cases = {}, []

    def add(name, data, fault, part, check):
        files[name] = data if isinstance(data, bytes) else data.SerializeToString()
        cases.append({"file": name, "fault": fault, "part": part, "check": check})

    add("empty.onnx", b"", "empty file (0 bytes)", "empty.onnx", "wire")
    cut = int(len(small_cnn_bytes) * 0.6)
    field = top_level_field_at(small_cnn_bytes, cut)
    add("truncated.onnx", small_cnn_bytes[:cut],
        f"small_cnn.onnx cut at 60% ({cut} of {len(small_cnn_bytes)} bytes)",
        onnx.ModelProto.DESCRIPTOR.fields_by_number[field].name, "wire")
    rnd = np.random.RandomState(1).bytes(4096)
    add("random.onnx", rnd, "4 KiB of random bytes (seed 1)", "random.onnx", "wire")
    bad = key(1, 0) + varint(8) + len_field(2, PRODUCER.encode()) + key(7, 2) + varint(1000) + b"\x0a\x02\x08\x01" * 3
    add("bad_wire.onnx", bad, "ModelProto.graph length prefix 1000 but only 12 bytes follow", "graph", "wire")

    w = TensorProto(name="w", data_type=T.FLOAT, dims=[2, 3], raw_data=np.arange(5, dtype=np.float32).tobytes())
    add("dims_mismatch.onnx", weight_model(w, "dims_mismatch"), "dims [2,3] but raw_data holds 5 floats", "w", "tensor")
    w = TensorProto(name="w", data_type=T.FLOAT, dims=[-1, 4], raw_data=np.zeros(4, np.float32).tobytes())
    add("negative_dims.onnx", weight_model(w, "negative_dims"), "dims [-1,4]", "w", "tensor")
    w = TensorProto(name="w", data_type=T.FLOAT, dims=[2**40, 2**40], raw_data=np.zeros(1, np.float32).tobytes())
    add("dims_overflow.onnx", weight_model(w, "dims_overflow"), "dims [2^40,2^40]: element count overflows int64",
        "w", "tensor")
    w = TensorProto(name="w", data_type=99, dims=[4], raw_data=np.zeros(4, np.float32).tobytes())
    add("unknown_dtype.onnx", weight_model(w, "unknown_dtype"), "data_type 99", "w", "tensor")

    w = TensorProto(name="w", data_type=T.FLOAT, dims=[2**60], raw_data=np.zeros(1, np.float32).tobytes())
    add("huge_shape.onnx", weight_model(w, "huge_shape"), "dims [2^60] of float32: byte count overflows", "w", "tensor")
    w = TensorProto(name="w", data_type=T.COMPLEX64, dims=[2**62], float_data=[0.0])
    add("huge_complex.onnx", weight_model(w, "huge_complex"), "complex64 dims [2^62]: value count overflows", "w", "tensor")
    w = TensorProto(name="w", data_type=T.INT4, dims=[2**62], int32_data=[0])
    add("huge_int4.onnx", weight_model(w, "huge_int4"), "int4 dims [2^62]: packed byte count overflows", "w", "tensor")
    m = weight_model(TensorProto(name="w", data_type=T.FLOAT, dims=[1], float_data=[1.0]), "string_nul")
    m.doc_string = "before\0after"
    add("string_nul.onnx", m, "model doc_string holds a NUL byte (a C string would cut it)", "doc_string", "wire")
    m = weight_model(TensorProto(name="w", data_type=T.FLOAT, dims=[1], float_data=[1.0]), "string_utf8")
    m.producer_name = "PRODUCER"
    add("string_bad_utf8.onnx", m.SerializeToString().replace(b"PRODUCER", b"\xffRODUCE\xfe"),
        "producer_name is not valid UTF-8", "producer_name", "wire")
    dims = key(1, 2) + varint(11) + b"\x80" * 10 + b"\x01"  # packed dims holding an 11-byte varint
    tensor = dims + key(2, 0) + varint(1) + len_field(8, b"w")
    graph = len_field(5, tensor) + len_field(2, b"overlong_varint")
    add("overlong_varint.onnx", key(1, 0) + varint(8) + len_field(7, graph),
        "packed dims holding an 11-byte varint (libprotobuf-c refuses it)", "dims", "wire")

    x4, y4 = vinfo("x", T.FLOAT, [4]), vinfo("y", T.FLOAT, [4])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu_a"),
                           helper.make_node("Relu", ["x"], ["y"], name="relu_b")], "duplicate_output", [x4], [y4])
    add("duplicate_output.onnx", model(g), "nodes relu_a and relu_b both produce y", "relu_b", "graph")
    g = helper.make_graph([helper.make_node("Add", ["x", "ghost"], ["y"], name="add0")], "missing_input", [x4], [y4])
    add("missing_input.onnx", model(g), "node add0 reads value ghost that nothing produces", "ghost", "graph")
    g = helper.make_graph([helper.make_node("Add", ["x", "b_out"], ["y"], name="cyc_a"),
                           helper.make_node("Relu", ["y"], ["b_out"], name="cyc_b")], "cycle", [x4], [y4])
    add("cycle.onnx", model(g), "nodes cyc_a and cyc_b feed each other", "cyc_", "graph")

    add("deep_nesting.onnx", deep_nesting_bytes(DEEP_NESTING_CYCLES),
        f"Attribute.g -> Graph.node -> Node.attribute nested {DEEP_NESTING_CYCLES} times "
        f"({3 * DEEP_NESTING_CYCLES} message levels)", "nesting", "wire")

    ext = [
        ("ext_absolute.onnx", "/etc/passwd", 0, 16, "absolute location /etc/passwd"),
        ("ext_dotdot.onnx", "../secret.bin", 0, 16, "location ../secret.bin escapes the model directory"),
        ("ext_dotdot_inner.onnx", "sub/../../x.bin", 0, 16, "location sub/../../x.bin escapes the model directory"),
        ("ext_missing.onnx", "nope.bin", 0, 16, "location nope.bin does not exist"),
        ("ext_past_end.onnx", "ext_small.bin", 32, 16, "offset 32 past the end of the 16-byte ext_small.bin"),
        ("ext_length_past_end.onnx", "ext_small.bin", 0, 1000, "length 1000 exceeds the 16-byte ext_small.bin"),
        ("ext_offset_overflow.onnx", "ext_small.bin", 2**63 - 1, 2**63 - 1, "offset + length overflow int64"),
        ("ext_self.onnx", "ext_self.onnx", 0, 16, "location names the model file itself"),
        ("ext_trailing_slash.onnx", "ext_small.bin/", 0, 16, "location with an empty last component"),
    ]
    for fname, loc, off, length, fault in ext:
        add(fname, weight_model(ext_tensor("w", T.FLOAT, [4], loc, off, length), fname[:-5]), fault, "w", "external")
    files["ext_small.bin"] = np.arange(4, dtype=np.float32).tobytes()
    return files, cases


# ---------------------------------------------------------------- checks


def checker_passes(path: str) -> bool:
    try:
        onnx.checker.check_model(path, full_check=True)
        return True
    except Exception as e:  # noqa: BLE001
        print(f"  checker: {os.path.relpath(path, OUT)}: {str(e).splitlines()[0][:200]}")
        return False


def ort_runs(path: str) -> bool:
    so = ort.SessionOptions()
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    so.log_severity_level = 3
    try:
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        feeds = {}
        for i in sess.get_inputs():
            shape = [d if isinstance(d, int) else 1 for d in i.shape]
            if i.type == "tensor(bool)":
                feeds[i.name] = np.ones(shape, bool)
            else:
                feeds[i.name] = np.full(shape, 0.5, np.float32)
        sess.run(None, feeds)
        return True
    except Exception as e:  # noqa: BLE001
        print(f"  ort: {os.path.relpath(path, OUT)}: {str(e).splitlines()[0][:200]}")
        return False


MANIFEST_NOTES = {
    "storage_forms.onnx": "ORT has no complex64/complex128 type and no INT4/UINT4 Identity kernel",
    "attributes.onnx": "custom-domain ops (ferry.test::Carrier) have no implementation",
    "metadata.onnx": "full_check shape inference rejects the sparse_initializer as an input of Add "
                     "inside the function (sparse_tensor type); the basic checker passes and ORT densifies it",
}


def main():
    for d in (VALID, MALFORMED):
        if os.path.isdir(d):
            shutil.rmtree(d)

    storage, storage_expect = build_storage_forms()
    write_model(os.path.join(VALID, "storage_forms.onnx"), storage)
    write_json(os.path.join(VALID, "storage_forms.expect.json"), storage_expect)
    write_model(os.path.join(VALID, "constant_nodes.onnx"), build_constant_nodes())
    attrs, attrs_expect = build_attributes()
    write_model(os.path.join(VALID, "attributes.onnx"), attrs)
    write_json(os.path.join(VALID, "attributes.expect.json"), attrs_expect)
    write_model(os.path.join(VALID, "subgraphs.onnx"), build_subgraphs())
    write_model(os.path.join(VALID, "metadata.onnx"), build_metadata())
    ext_model, ext_data, ext_extra = build_external()
    write_model(os.path.join(VALID, "external", "model.onnx"), ext_model)
    write_bytes(os.path.join(VALID, "external", "weights.bin"), ext_data)
    write_bytes(os.path.join(VALID, "external", "data", "extra.bin"), ext_extra)
    cnn = build_small_cnn()
    write_model(os.path.join(VALID, "small_cnn.onnx"), cnn)

    manifest = []
    for rel in ["storage_forms.onnx", "constant_nodes.onnx", "attributes.onnx", "subgraphs.onnx",
                "metadata.onnx", "external/model.onnx", "small_cnn.onnx"]:
        path = os.path.join(VALID, rel)
        entry = {"file": rel, "checker_full": checker_passes(path), "ort": ort_runs(path)}
        if rel in MANIFEST_NOTES:
            entry["note"] = MANIFEST_NOTES[rel]
        manifest.append(entry)
    write_json(os.path.join(VALID, "manifest.json"), manifest)

    files, cases = build_malformed(cnn.SerializeToString())
    for name, data in files.items():
        write_bytes(os.path.join(MALFORMED, name), data)
    write_json(os.path.join(MALFORMED, "cases.json"), cases)
    for c in cases:  # every malformed file must be rejected by onnx itself too
        path = os.path.join(MALFORMED, c["file"])
        try:
            if c["check"] == "wire":
                with open(path, "rb") as f:
                    data = f.read()
                if not data:
                    raise ValueError("empty")
                onnx.ModelProto.FromString(data)
            else:
                onnx.checker.check_model(path, full_check=True)
                if c["check"] == "external":
                    onnx.load(path)
            print(f"  warning: onnx accepts malformed/{c['file']}")
        except Exception:  # noqa: BLE001
            pass

    for m in manifest:
        print(f"valid/{m['file']}: checker_full={m['checker_full']} ort={m['ort']}")
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"Fixtures/onnx: {total} bytes")


if __name__ == "__main__":
    main()
