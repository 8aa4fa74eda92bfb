"""Keras models built at check time, in every dialect Ferry reads, with Keras's own outputs.

A case is a builder `build(k)` that makes a model with module `k` (tf_keras or Keras 3). Each case
is saved three ways, each with seeded random weights and the outputs its own Keras computes:

    tf.keras .h5      tf_keras model.save('m.h5')       (legacy HDF5, Keras 2 config)
    keras 3 .keras    Keras 3 model.save('m.keras')     (zip: config.json + model.weights.h5)
    keras 3 .h5       Keras 3 model.save('m.h5')        (legacy HDF5, Keras 3 config)

`check_case` converts each file with `convert(src, dst)` (`ferry convert`), runs the ONNX file in onnxruntime against
Keras's outputs, checks the layout rules (no Transpose feeds a Transpose; at most one Transpose per
graph input and output, two per recurrent layer, one per Permute or Reshape layer), writes the ONNX
file back to .h5 with Ferry and loads that in tf.keras and in Keras 3 with the same numbers. Used
by tools/interop_keras.py and tools/check_keras_applications.py.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ["KERAS_BACKEND"] = "tensorflow"

import warnings  # noqa: E402

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import onnx  # noqa: E402

import keras  # noqa: E402
import tf_keras  # noqa: E402

from checks import Failure, ort_session  # noqa: E402
from make_keras_fixtures import clear_sessions, randomize, seed_of  # noqa: E402

TOLERANCE = 1e-5
DIALECTS = ("tf.keras .h5", "keras 3 .keras", "keras 3 .h5")
BATCH = 2


class Case:
    """A model to build in both Keras versions. `export` says whether Ferry must write its ONNX
    form back to .h5."""

    def __init__(self, name, build, export=True, int_inputs=None, dialects=DIALECTS, tolerance=TOLERANCE):
        self.name = name
        self.build = build
        self.export = export
        self.int_inputs = int_inputs or {}
        self.dialects = dialects
        self.tolerance = tolerance


RECURRENT = {"LSTM", "GRU", "SimpleRNN", "Bidirectional"}


def transpose_budget(model) -> tuple[int, str]:
    """The layout Transposes a converted model may have: one per graph input and output, two per
    recurrent layer, one per Permute or Reshape layer (nested models and wrappers included)."""
    counts = {"recurrent": 0, "Permute/Reshape": 0}

    def walk(layers):
        for layer in layers:
            cls = type(layer).__name__
            if cls in RECURRENT:
                counts["recurrent"] += 1
            elif cls in ("Permute", "Reshape"):
                counts["Permute/Reshape"] += 1
            inner = getattr(layer, "layer", None)
            if inner is not None and type(inner).__name__ in ("Permute", "Reshape"):
                counts["Permute/Reshape"] += 1
            if hasattr(layer, "layers") and layer is not model:
                walk(layer.layers)
    walk(model.layers)
    ends = len(model.inputs) + len(model.outputs)
    limit = ends + 2 * counts["recurrent"] + counts["Permute/Reshape"]
    return limit, f"{ends} inputs/outputs, {counts['recurrent']} recurrent, {counts['Permute/Reshape']} Permute/Reshape"


def as_list(x):
    if isinstance(x, dict):
        return list(x.values())
    return list(x) if isinstance(x, (list, tuple)) else [x]


def predict(model, inputs):
    feed = inputs if len(inputs) > 1 else inputs[0]
    return [np.asarray(o, dtype=np.float32) for o in as_list(model(feed, training=False))]


def make_inputs(model, case, seed):
    rng = np.random.RandomState(seed + 1)
    arrays = []
    for i, t in enumerate(model.inputs):
        shape = (BATCH,) + tuple(int(d) for d in t.shape[1:])
        if i in case.int_inputs:
            arrays.append(rng.randint(0, case.int_inputs[i], size=shape).astype(np.int32))
        else:
            arrays.append(rng.normal(0.0, 1.0, shape).astype(np.float32))
    return arrays


def write(case, dialect, work):
    """Builds the case in the dialect's Keras, saves it; returns (path, inputs, outputs, transpose budget)."""
    seed = seed_of(case.name)
    clear_sessions(seed)
    k = tf_keras if dialect.startswith("tf.keras") else keras
    model = case.build(k)
    randomize(model, seed)
    inputs = make_inputs(model, case, seed)
    outputs = predict(model, inputs)
    path = os.path.join(work, f"{case.name}.{dialect.split()[0].replace('.', '')}{dialect.split()[-1]}")
    if k is tf_keras:
        model.save(path, save_format="h5")
    else:
        model.save(path)  # Keras 3 writes the legacy HDF5 format for a .h5 name
    return path, inputs, outputs, transpose_budget(model)


def relative_error(got, want):
    if len(got) != len(want):
        raise Failure(f"{len(got)} outputs, Keras has {len(want)}")
    worst = 0.0
    for g, w in zip(got, want):
        g = np.asarray(g)
        if g.shape != w.shape:
            raise Failure(f"output shape {g.shape}, Keras gives {w.shape}")
        if not (np.isfinite(g).all() and np.isfinite(w).all()):
            raise Failure("outputs are not all finite (Keras's or the converted model's)")
        if w.size:
            worst = max(worst, float(np.max(np.abs(g.astype(np.float64) - w)) / max(float(np.max(np.abs(w))), 1e-12)))
    return worst


def layout(model_proto):
    """Fails when a Transpose feeds a Transpose; returns the number of Transposes."""
    producers = {o: n for n in model_proto.graph.node for o in n.output}
    for n in model_proto.graph.node:
        if n.op_type == "Transpose" and any(i in producers and producers[i].op_type == "Transpose" for i in n.input):
            raise Failure(f"layout: Transpose {n.name} follows another Transpose")
    return sum(n.op_type == "Transpose" for n in model_proto.graph.node)


def ort_outputs(path, inputs):
    sess = ort_session(path)
    feeds = {}
    for i, x in zip(sess.get_inputs(), inputs):
        want = {"tensor(int32)": np.int32, "tensor(int64)": np.int64}.get(i.type, np.float32)
        feeds[i.name] = x.astype(want)
    return sess.run(None, feeds)


def check_case(convert, case, dialect, work):
    """One case in one dialect: convert, onnxruntime vs Keras, layout, and back to .h5 in both Kerases."""
    path, inputs, want, (limit, why) = write(case, dialect, work)
    onnx_path = path + ".onnx"
    convert(path, onnx_path)
    proto = onnx.load(onnx_path)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as e:  # noqa: BLE001
        raise Failure(f"checker: {str(e).splitlines()[0][:200]}") from None
    transposes = layout(proto)
    if transposes > limit:
        raise Failure(f"{transposes} Transposes, at most {limit} expected ({why})")
    err = relative_error(ort_outputs(onnx_path, inputs), want)
    if err > case.tolerance:
        raise Failure(f"onnxruntime differs from Keras: relative error {err:.2e} > {case.tolerance}")
    details = [f"onnxruntime within {err:.1e}", f"{transposes} transposes"]
    if not case.export:
        return details
    back = path + ".back.h5"
    convert(onnx_path, back)
    for label, k in (("tf.keras", tf_keras), ("keras 3", keras)):
        clear_sessions(0)
        m = k.models.load_model(back, compile=False)
        err2 = relative_error(predict(m, inputs), want)
        if err2 > case.tolerance:
            raise Failure(f"{label} loads Ferry's .h5 but its outputs differ: {err2:.2e}")
        details.append(f"back in {label} within {err2:.1e}")
    return details


# ---------------------------------------------------------------- shared and nested models


def encoder_sequential(k, name="encoder", with_input=True):
    L = k.layers
    layers = [L.Dense(6, activation="relu"), L.Dense(4)]
    return k.Sequential(([k.Input((8,))] if with_input else []) + layers, name=name)


def encoder_functional(k, name="encoder"):
    L = k.layers
    x = k.Input((8,))
    return k.Model(x, L.Dense(4)(L.Dense(6, activation="tanh")(x)), name=name)


def siamese(make_encoder):
    """One encoder called on two inputs; both calls feed a normalising Dot and a Subtract."""
    def build(k):
        L = k.layers
        a, b = k.Input((8,), name="left"), k.Input((8,), name="right")
        enc = make_encoder(k)
        ea, eb = enc(a), enc(b)
        cos = L.Dot(axes=1, normalize=True, name="cosine")([ea, eb])
        diff = L.Subtract(name="difference")([ea, eb])
        score = L.Dense(1, name="score")(L.Concatenate()([cos, diff]))
        return k.Model([a, b], [cos, diff, score], name="siamese")
    return build


def nested_two_deep(k):
    """An outer model calls a middle model (twice) that calls an inner model (twice)."""
    L = k.layers
    inner = encoder_functional(k, "inner")
    x = k.Input((8,))
    h = L.Add()([inner(x), inner(L.Dense(8, name="mix")(x))])
    middle = k.Model(x, L.Dense(3, name="middle_head")(h), name="middle")
    a, b = k.Input((8,), name="a"), k.Input((8,), name="b")
    return k.Model([a, b], [middle(a), L.Multiply()([middle(a), middle(b)])], name="two_deep")


def shared_three_times(k):
    L = k.layers
    ins = [k.Input((5,), name=n) for n in ("p", "q", "r")]
    d = L.Dense(4, activation="sigmoid", name="shared")
    outs = [d(x) for x in ins]
    return k.Model(ins, [L.Concatenate()(outs), L.Subtract()([outs[2], outs[0]])], name="shared_three")


def shared_inside_nested(k):
    """A nested model that itself calls one Dense twice, called on two inputs."""
    L = k.layers
    x = k.Input((6,))
    d = L.Dense(6, activation="relu", name="twice")
    inner = k.Model(x, d(L.Dense(6, name="between")(d(x))), name="inner_shared")
    a, b = k.Input((6,), name="a"), k.Input((6,), name="b")
    return k.Model([a, b], L.Concatenate()([inner(a), inner(b)]), name="shared_inside")


def siamese_sequential_in_sequential(k):
    L = k.layers
    inner = encoder_sequential(k, "inner_seq")
    outer = k.Sequential([k.Input((8,)), inner, L.Dense(2)], name="outer_seq")
    a, b = k.Input((8,), name="a"), k.Input((8,), name="b")
    return k.Model([a, b], L.Subtract()([outer(a), outer(b)]), name="seq_in_seq")


def siamese_conv(k):
    """A convolutional encoder (channels-first inside Ferry) shared by two image inputs."""
    L = k.layers
    enc = k.Sequential([k.Input((9, 9, 3)), L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(2),
                        L.Conv2D(5, 3, padding="same"), L.GlobalAveragePooling2D()], name="image_encoder")
    a, b = k.Input((9, 9, 3), name="first"), k.Input((9, 9, 3), name="second")
    return k.Model([a, b], L.Dot(axes=1, normalize=True)([enc(a), enc(b)]), name="siamese_conv")


SHARED_CASES = [
    Case("siamese_sequential", siamese(encoder_sequential)),
    Case("siamese_sequential_deferred", siamese(lambda k: encoder_sequential(k, with_input=False))),
    Case("siamese_functional", siamese(encoder_functional)),
    Case("nested_two_deep", nested_two_deep),
    Case("shared_three_times", shared_three_times),
    Case("shared_inside_nested", shared_inside_nested),
    Case("sequential_in_sequential", siamese_sequential_in_sequential),
    Case("siamese_conv", siamese_conv),
]


# ---------------------------------------------------------------- ops Ferry writes back as compositions


def mobilenet_v3_block(k):
    """MobileNetV3-style: hard-swish (x · hard_sigmoid(x)), a 5x5 depthwise convolution and a
    squeeze-excite gate with hard_sigmoid (whose definition differs between the two Kerases)."""
    L = k.layers
    x = k.Input((12, 12, 8), name="image")
    h = L.Conv2D(16, 1)(x)
    h = L.Multiply()([h, L.Activation("hard_sigmoid")(h)])
    h = L.DepthwiseConv2D(5, padding="same")(h)
    s = L.GlobalAveragePooling2D(keepdims=True)(h)
    s = L.Conv2D(4, 1, activation="relu")(s)
    s = L.Conv2D(16, 1, activation="hard_sigmoid")(s)
    h = L.Multiply()([h, s])
    return k.Model(x, L.GlobalAveragePooling2D()(h), name="mobilenet_v3_block")


def layer_norm_axes(k):
    """LayerNormalization over several trailing axes (image and sequence), with scale and bias."""
    L = k.layers
    img = k.Input((5, 6, 4), name="image")
    seq = k.Input((3, 4, 5), name="seq")
    a = L.LayerNormalization(axis=[1, 2, 3])(L.Conv2D(4, 3, padding="same")(img))
    b = L.LayerNormalization(axis=[2, 3], epsilon=0.01)(seq)
    return k.Model([img, seq], [L.GlobalAveragePooling2D()(a), b], name="layer_norm_axes")


def time_distributed_cnn(k):
    """A CRNN front end: TimeDistributed convolution, pooling and flattening, then an LSTM."""
    L = k.layers
    x = k.Input((4, 10, 10, 3), name="frames")
    h = L.TimeDistributed(L.Conv2D(6, 3, activation="relu"))(x)
    h = L.TimeDistributed(L.MaxPooling2D(2))(h)
    h = L.TimeDistributed(L.Conv2D(4, 3, padding="same"))(h)
    h = L.TimeDistributed(L.Flatten())(h)
    h = L.TimeDistributed(L.Dense(8, activation="tanh"))(h)
    return k.Model(x, L.LSTM(5)(h), name="time_distributed_cnn")


def gelu_tanh(k):
    from make_keras_fixtures import b_gelu_approximate
    return b_gelu_approximate(k)


def tensor_arithmetic(k):
    """Python arithmetic on Keras tensors: TFOpLambda layers in tf.keras, operation layers in Keras 3
    (keras.src.ops.numpy Add, Multiply, ... whose legacy .h5 configs carry no module)."""
    L = k.layers
    x = k.Input((6,), name="x")
    a, b = L.Dense(6)(x), L.Dense(6)(x)
    c = (a + 3.0) * (1.0 / 6.0)
    d = (a - b) / 2.0
    e = a * b + L.Dense(1)(x)
    return k.Model(x, [c, d, e], name="tensor_arithmetic")


def sequence_layers(k):
    """The sequence model of the layout issue: channels-last 1-D convolutions, normalization and
    recurrent layers (time-major inside) and per-timestep layers between them."""
    L = k.layers
    return k.Sequential([
        k.Input((16, 5)),
        L.Conv1D(8, 3, padding="same", activation="relu"),
        L.LayerNormalization(),
        L.Bidirectional(L.LSTM(6, return_sequences=True)),
        L.TimeDistributed(L.Dense(7)),
        L.PReLU(),
        L.Cropping1D((1, 1)),
        L.UpSampling1D(2),
        L.Conv1D(6, 3, padding="same"),
        L.GRU(5, return_sequences=True),
        L.GlobalMaxPooling1D(),
        L.RepeatVector(4),
        L.SimpleRNN(3),
    ], name="sequence_layers")


def permute_image(k):
    """Permute layers between convolutions (each may cost one Transpose, no more)."""
    L = k.layers
    x = k.Input((8, 6, 3), name="image")
    h = L.Conv2D(4, 3, padding="same", activation="relu")(x)
    h = L.Permute((2, 1, 3))(h)
    h = L.Conv2D(5, 3, padding="same")(h)
    h = L.Permute((3, 1, 2))(h)
    h = L.Dense(4)(h)
    return k.Model(x, L.Flatten()(h), name="permute_image")


LAYOUT_CASES = [
    Case("sequence_layers", sequence_layers),
    Case("permute_image", permute_image),
]


EXPORT_CASES = [
    Case("mobilenet_v3_block", mobilenet_v3_block),
    Case("layer_norm_axes", layer_norm_axes),
    Case("time_distributed_cnn", time_distributed_cnn),
    Case("gelu_tanh", gelu_tanh),
    Case("tensor_arithmetic", tensor_arithmetic),
]
