#!/usr/bin/env python3
"""Generate the Keras test fixtures under Fixtures/keras/.

Every model is built twice from one builder: with tf_keras (Keras 2 API, the legacy HDF5
writer) and with Keras 3. The tf_keras model gets seeded random values for EVERY variable
(kernels, biases, BatchNormalization moving statistics, PReLU alphas, ...), the Keras 3 model
receives the same values through set_weights, and both are saved:

    NAME.h5                  tf_keras model.save()           legacy full model
    NAME.weights.legacy.h5   tf_keras model.save_weights()   legacy weights only
    NAME.keras               Keras 3 model.save()            zip: config.json + model.weights.h5
    NAME.weights.h5          Keras 3 model.save_weights()
    NAME.input_K.npy         reference inputs (batch 2; float32, int32 for Embedding)
    NAME.output_K.npy        tf_keras outputs for those inputs (float32)
    NAME.keras3_output_K.npy Keras 3 outputs, only where they differ from tf_keras

plus string-attribute variants (NAME.fixedstr.h5, NAME.split.h5), malformed files under bad/,
manifest.json and LAYOUTS.md (the weight layout of every file, read back from the files).

Weights and reference numbers are reproducible (fixed seeds); the HDF5 and zip files carry
timestamps and so are not byte-identical between runs. Needs tools/requirements-keras.txt.

    python tools/make_keras_fixtures.py                  # writes Fixtures/keras/
    python tools/make_keras_fixtures.py --all-forms      # also the weights-only/Keras 3 forms
                                                         # of the large document models
    python tools/make_keras_fixtures.py --big DIR        # the big models (not committed) into DIR

`build_big_models()` builds the models too large to commit (Embedding(10000,256)-LSTM(32)-
Dense(10000) and MobileNetV2 with random weights); `write_forms()` saves any of them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import zipfile
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ["KERAS_BACKEND"] = "tensorflow"

import warnings  # noqa: E402

warnings.filterwarnings("ignore")

import h5py  # noqa: E402
import numpy as np  # noqa: E402

import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402
import keras  # noqa: E402

tf.get_logger().setLevel("ERROR")
try:
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
except ImportError:  # pragma: no cover
    pass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fixtures", "keras")
BATCH = 2
ATOL = 1e-5  # Keras 3 vs tf_keras, and reload checks
RTOL = 1e-5

FORMS = ("h5", "weights_legacy_h5", "keras", "weights_h5")
SUFFIX = {
    "h5": ".h5",
    "weights_legacy_h5": ".weights.legacy.h5",
    "keras": ".keras",
    "weights_h5": ".weights.h5",
}

if sys.byteorder != "little":
    raise SystemExit("this script assumes a little-endian host")


def is_k3(k) -> bool:
    return k is keras


def seed_of(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


# ---------------------------------------------------------------- model builders
# Each builder takes the Keras module (tf_keras or keras) and returns an unbuilt-weights
# model; both calls must create the same variables in the same order.


def b_dense_small(k):
    L = k.layers
    return k.Sequential([L.Dense(5, activation="relu", input_shape=(10,)), L.Dense(2)],
                        name="dense_small")


def b_mnist_mlp(k):
    L = k.layers
    return k.Sequential([L.Dense(128, activation="relu", input_shape=(784,)),
                         L.Dense(10, activation="softmax")], name="mnist_mlp")


def b_mnist_cnn(k):
    L = k.layers
    return k.Sequential([
        L.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
        L.MaxPooling2D(2),
        L.Conv2D(64, 3, activation="relu"),
        L.MaxPooling2D(2),
        L.Conv2D(64, 3, activation="relu"),
        L.Flatten(),
        L.Dense(64, activation="relu"),
        L.Dense(10, activation="softmax"),
    ], name="mnist_cnn")


def b_lstm_stack(k):
    L = k.layers
    return k.Sequential([
        L.LSTM(128, return_sequences=True, input_shape=(8, 16)),
        L.LSTM(128),
        L.Dense(10, activation="softmax"),
    ], name="lstm_stack")


def b_dense_compiled(k):
    L = k.layers
    m = k.Sequential([k.Input((6,)), L.Dense(4, activation="elu"), L.Dropout(0.25),
                      L.Dense(3, activation="softmax")], name="dense_compiled")
    return m


def b_conv1d(k):
    L = k.layers
    return k.Sequential([
        k.Input((16, 3)),
        L.Conv1D(4, 3, padding="same", activation="relu"),
        L.Conv1D(5, 3, strides=2, padding="valid", use_bias=False),
        L.Conv1D(4, 3, dilation_rate=2, padding="same", activation="sigmoid"),
        L.MaxPooling1D(2),
        L.AveragePooling1D(2, padding="same"),
        L.GlobalAveragePooling1D(),
    ], name="conv1d")


def b_pool1d(k):
    L = k.layers
    x = k.Input((9, 3), name="seq")
    a = L.AveragePooling1D(3, strides=2, padding="same")(x)
    b = L.MaxPooling1D(2, strides=1, padding="same")(x)
    c = L.AveragePooling1D(2, padding="valid")(x)
    d = L.MaxPooling1D(3, strides=2, padding="valid")(x)
    b = L.Conv1D(2, 2, padding="causal", name="causal_conv")(b)
    return k.Model(x, [a, L.GlobalMaxPooling1D()(b), c, L.GlobalAveragePooling1D()(d)],
                   name="pool1d")


def b_conv2d(k):
    L = k.layers
    x = k.Input((8, 8, 3), name="image")
    a = L.Conv2D(4, 3, strides=2, padding="same", activation="relu")(x)
    b = L.Conv2D(4, 3, dilation_rate=2, padding="valid", use_bias=False)(x)
    c = L.Conv2D(3, (2, 3), strides=(1, 2), padding="same", activation="elu")(x)
    d = L.Conv2D(2, 1, activation="tanh")(b)
    e = L.Conv2D(3, (3, 2), strides=(2, 1), padding="valid", dilation_rate=1)(x)
    return k.Model(x, [a, d, c, e], name="conv2d")


def b_pool2d(k):
    L = k.layers
    x = k.Input((7, 7, 2), name="image")
    p1 = L.MaxPooling2D(2)(x)
    p2 = L.MaxPooling2D(3, strides=2, padding="same")(x)
    p3 = L.AveragePooling2D(3, strides=2, padding="same")(x)
    p4 = L.AveragePooling2D((2, 3), strides=(1, 2), padding="valid")(x)
    g1 = L.GlobalAveragePooling2D()(x)
    g2 = L.GlobalMaxPooling2D()(x)
    return k.Model(x, [p1, p2, p3, p4, L.Concatenate()([g1, g2])], name="pool2d")


def b_conv3d(k):
    L = k.layers
    x = k.Input((5, 6, 6, 2), name="volume")
    y = L.Conv3D(3, 3, padding="same", activation="relu")(x)
    y = L.Conv3D(2, (2, 3, 3), strides=(1, 2, 2), padding="valid", use_bias=False)(y)
    y = L.Flatten()(y)
    y = L.Dense(3)(y)
    return k.Model(x, y, name="conv3d")


def b_depthwise_separable(k):
    L = k.layers
    return k.Sequential([
        k.Input((8, 8, 3)),
        L.DepthwiseConv2D(3, padding="same", depth_multiplier=1, activation="relu6"),
        L.DepthwiseConv2D(3, strides=2, padding="valid", depth_multiplier=2, use_bias=False),
        L.SeparableConv2D(4, 3, padding="same", activation="relu"),
        L.SeparableConv2D(3, 2, dilation_rate=1, padding="valid", depth_multiplier=2,
                          use_bias=False),
    ], name="depthwise_separable")


def b_conv_transpose(k):
    L = k.layers
    x = k.Input((4, 4, 3), name="image")
    a = L.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu")(x)
    b = L.Conv2DTranspose(2, 3, strides=2, padding="valid", use_bias=False,
                          activation="sigmoid")(a)
    c = L.Conv2DTranspose(2, (2, 3), strides=(2, 1), padding="same")(x)
    return k.Model(x, [b, c], name="conv_transpose")


def b_normalization(k):
    L = k.layers
    x = k.Input((6, 6, 3), name="image")
    y = L.BatchNormalization()(x)
    y = L.Conv2D(4, 3, padding="same", use_bias=False)(y)
    y = L.BatchNormalization(center=False, epsilon=0.01)(y)
    y = L.ReLU()(y)
    y = L.BatchNormalization(scale=False)(y)
    y = L.BatchNormalization(center=False, scale=False)(y)
    z = L.LayerNormalization(axis=[1, 2, 3])(y)
    y = L.GlobalAveragePooling2D()(y)
    y = L.Dense(5)(y)
    y = L.LayerNormalization()(y)
    y = L.LayerNormalization(center=False, scale=False, epsilon=0.1)(y)
    v = k.Input((3, 4), name="seq")
    w = L.BatchNormalization(axis=1)(v)
    return k.Model([x, v], [y, z, w], name="normalization")


ACTIVATIONS = ["relu", "relu6", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus",
               "softsign", "swish", "silu", "gelu", "exponential", "linear", "mish"]


def b_activations(k):
    L = k.layers
    x = k.Input((8,), name="x")
    h = L.Dense(8, name="pre")(x)
    outs = [L.Activation(a, name=f"act_{a}")(h) for a in ACTIVATIONS]
    y = L.Concatenate(name="all")(outs)
    # activations fused into layers
    f1 = L.Dense(3, activation="softplus", name="dense_softplus")(x)
    f2 = L.Dense(3, activation="selu", name="dense_selu")(x)
    f3 = L.Dense(3, activation="gelu", name="dense_gelu")(x)
    return k.Model(x, [y, L.Concatenate(name="fused")([f1, f2, f3])], name="activations")


def b_act_hard_sigmoid(k):
    L = k.layers
    x = k.Input((8,), name="x")
    h = L.Dense(8)(x)
    a = L.Activation("hard_sigmoid")(h)
    b = L.Dense(3, activation="hard_sigmoid")(x)
    return k.Model(x, [a, b], name="act_hard_sigmoid")


def b_gelu_approximate(k):
    L = k.layers
    x = k.Input((6,), name="x")
    h = L.Dense(6)(x)
    if is_k3(k):
        y = keras.ops.gelu(h, approximate=True)
    else:
        y = tf.nn.gelu(h, approximate=True)  # recorded as a TFOpLambda layer
    return k.Model(x, y, name="gelu_approximate")


def b_relu_family(k):
    L = k.layers
    x = k.Input((10,), name="x")
    h = L.Dense(8, name="pre")(x)
    leaky = L.LeakyReLU(negative_slope=0.2) if is_k3(k) else L.LeakyReLU(alpha=0.2)
    outs = [
        L.ReLU()(h),
        L.ReLU(max_value=0.5)(h),
        L.ReLU(threshold=0.2)(h),
        L.ReLU(max_value=1.0, threshold=0.3, negative_slope=0.1)(h),
        leaky(h),
        L.PReLU()(h),
        L.ELU(alpha=0.7)(h),
        L.Softmax()(h),
    ]
    r = L.Reshape((2, 4))(h)
    s = L.Softmax(axis=1)(r)
    img = k.Input((4, 4, 2), name="image")
    p = L.PReLU(shared_axes=[1, 2])(img)
    return k.Model([x, img], [L.Concatenate()(outs), s, p], name="relu_family")


def b_reshaping(k):
    L = k.layers
    return k.Sequential([
        k.Input((6, 6, 2)),
        L.Dropout(0.3),
        L.SpatialDropout2D(0.2),
        L.GaussianNoise(0.5),
        L.AlphaDropout(0.1),
        L.GaussianDropout(0.2),
        L.Flatten(),
        L.Dense(12),
        L.Reshape((3, 4)),
        L.Permute((2, 1)),
        L.Flatten(),
        L.Dense(3),
        L.RepeatVector(4),
    ], name="reshaping")


def b_merge(k):
    L = k.layers
    a = k.Input((6,), name="a")
    b = k.Input((6,), name="b")
    c = k.Input((6,), name="c")
    d = k.Input((3, 4), name="d")
    e = k.Input((2, 4), name="e")
    bb = L.Dense(6, name="proj")(b)
    outs = [
        L.Add()([a, bb, c]),
        L.Subtract()([a, bb]),
        L.Multiply()([a, bb, c]),
        L.Average()([a, bb]),
        L.Maximum()([a, bb, c]),
        L.Minimum()([a, c]),
        L.Concatenate()([a, bb, c]),
        L.Dot(axes=1)([a, bb]),
        L.Dot(axes=1, normalize=True)([a, c]),
    ]
    cat1 = L.Concatenate(axis=1)([d, e])
    dot2 = L.Dot(axes=(2, 2))([d, e])
    return k.Model([a, b, c, d, e], [L.Concatenate(name="flat")(outs), cat1, dot2],
                   name="merge")


def b_padding_resize(k):
    L = k.layers
    s = k.Input((10, 3), name="seq")
    s1 = L.ZeroPadding1D(2)(s)
    s2 = L.ZeroPadding1D((1, 3))(s)
    s3 = L.Cropping1D((2, 1))(s)
    s4 = L.UpSampling1D(2)(s)
    s2 = L.Conv1D(2, 3)(s2)
    x = k.Input((5, 6, 2), name="image")
    x1 = L.ZeroPadding2D(1)(x)
    x2 = L.ZeroPadding2D(((1, 2), (0, 3)))(x)
    x3 = L.Cropping2D(((1, 0), (2, 1)))(x)
    x4 = L.UpSampling2D(2)(x)
    x5 = L.UpSampling2D((2, 3), interpolation="bilinear")(x)
    x2 = L.Conv2D(2, 3)(x2)
    return k.Model([s, x], [s1, s2, s3, s4, x1, x2, x3, x4, x5], name="padding_resize")


def b_embedding_rnn(k):
    L = k.layers
    return k.Sequential([
        k.Input((7,), dtype="int32"),
        L.Embedding(20, 6),
        L.SimpleRNN(5, return_sequences=True),
        L.SimpleRNN(4, go_backwards=True, activation="relu"),
        L.Dense(3),
    ], name="embedding_rnn")


def b_lstm(k):
    L = k.layers
    x = k.Input((6, 4), name="seq")
    a = L.LSTM(5, return_sequences=True)(x)
    a = L.LSTM(3)(a)
    b = L.LSTM(3, go_backwards=True)(x)
    c = L.LSTM(4, return_sequences=True, go_backwards=True, unit_forget_bias=False)(x)
    return k.Model(x, [a, b, c], name="lstm")


def b_lstm_keras2(k):
    """Keras 2.3.1-era settings: hard_sigmoid recurrent activation, GRU reset_after=False."""
    L = k.layers
    x = k.Input((5, 3), name="seq")
    a = L.LSTM(4, recurrent_activation="hard_sigmoid", return_sequences=True)(x)
    b = L.GRU(3, recurrent_activation="hard_sigmoid", reset_after=False)(a)
    return k.Model(x, b, name="lstm_keras2")


def b_gru(k):
    L = k.layers
    x = k.Input((6, 4), name="seq")
    a = L.GRU(5, return_sequences=True)(x)  # reset_after=True (default)
    a = L.GRU(3, reset_after=False)(a)
    b = L.GRU(4, go_backwards=True, reset_after=False, return_sequences=True)(x)
    c = L.GRU(2, go_backwards=True)(x)
    return k.Model(x, [a, b, c], name="gru")


def b_bidirectional(k):
    L = k.layers
    return k.Sequential([
        k.Input((6, 4)),
        L.Bidirectional(L.LSTM(4, return_sequences=True), merge_mode="concat"),
        L.Bidirectional(L.LSTM(3), merge_mode="sum"),
        L.Dense(2),
    ], name="bidirectional")


def b_bidirectional_gru(k):
    L = k.layers
    x = k.Input((5, 3), name="seq")
    a = L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="ave")(x)
    b = L.Bidirectional(L.GRU(2, reset_after=False), merge_mode="mul")(x)
    c = L.Bidirectional(L.SimpleRNN(2), merge_mode="concat")(x)
    return k.Model(x, [a, b, c], name="bidirectional_gru")


def b_time_distributed(k):
    L = k.layers
    return k.Sequential([
        k.Input((3, 6, 6, 2)),
        L.TimeDistributed(L.Conv2D(3, 3, activation="relu")),
        L.TimeDistributed(L.MaxPooling2D(2)),
        L.TimeDistributed(L.Flatten()),
        L.TimeDistributed(L.Dense(4)),
    ], name="time_distributed")


def b_multi_io(k):
    L = k.layers
    img = k.Input((8, 8, 1), name="image")
    vec = k.Input((5,), name="features")
    y = L.Conv2D(4, 3, activation="relu")(img)
    y = L.GlobalAveragePooling2D()(y)
    z = L.Dense(4, activation="tanh")(vec)
    h = L.Concatenate()([y, z])
    cls = L.Dense(3, activation="softmax", name="class")(h)
    val = L.Dense(1, name="value")(h)
    return k.Model([img, vec], [cls, val], name="multi_io")


def b_nested(k):
    L = k.layers
    inner = k.Sequential([k.Input((6,)), L.Dense(5, activation="relu"), L.Dense(4)],
                         name="encoder")
    x = k.Input((6,), name="x")
    y = inner(x)
    y = L.Dense(2, name="head")(y)
    return k.Model(x, y, name="nested")


def b_shared(k):
    L = k.layers
    a = k.Input((5,), name="left")
    b = k.Input((5,), name="right")
    d = L.Dense(4, activation="tanh", name="shared_dense")
    ya, yb = d(a), d(b)
    y = L.Subtract()([ya, yb])
    y = L.Dense(1, name="score")(y)
    return k.Model([a, b], [y, ya], name="shared")


class Spec:
    def __init__(self, name, build, structure, inputs=None, forms=("h5", "keras"), doc=False,
                 compiled=False, note=""):
        self.name = name
        self.build = build
        self.structure = structure
        self.inputs = inputs  # None: float normal for every model input
        self.forms = forms
        self.doc = doc
        self.compiled = compiled
        self.note = note


# The document models mnist_mlp, mnist_cnn, lstm_stack are 0.4-0.85 MB per file: only their
# legacy .h5 is committed. --all-forms writes the other three forms as well.
LARGE_FORMS = ("h5",)  # --all-forms writes all four
# The weights-only forms repeat the full files' trees (HDF5 structure dominates their size):
# only the specs marked forms=FORMS get them; the rest get .h5 and .keras.

SPECS = [
    Spec("dense_small", b_dense_small, "sequential", doc=True, forms=FORMS),
    Spec("mnist_mlp", b_mnist_mlp, "sequential", doc=True, forms=LARGE_FORMS),
    Spec("mnist_cnn", b_mnist_cnn, "sequential", doc=True, forms=LARGE_FORMS),
    Spec("lstm_stack", b_lstm_stack, "sequential", doc=True, forms=LARGE_FORMS),
    Spec("dense_compiled", b_dense_compiled, "sequential", compiled=True,
         note="compiled with Adam and trained one step: .h5 has training_config and "
              "optimizer_weights/, .keras and .weights.h5 have optimizer/ (not model weights)", forms=FORMS),
    Spec("conv1d", b_conv1d, "sequential"),
    Spec("pool1d", b_pool1d, "functional"),
    Spec("conv2d", b_conv2d, "functional", forms=FORMS),
    Spec("pool2d", b_pool2d, "functional"),
    Spec("conv3d", b_conv3d, "functional"),
    Spec("depthwise_separable", b_depthwise_separable, "sequential"),
    Spec("conv_transpose", b_conv_transpose, "functional"),
    Spec("normalization", b_normalization, "functional"),
    Spec("activations", b_activations, "functional",
         note="output 0 = Concatenate of Activation(a) for a in " + ",".join(ACTIVATIONS)
              + " (8 values each, in that order)"),
    Spec("act_hard_sigmoid", b_act_hard_sigmoid, "functional",
         note="tf_keras hard_sigmoid = clip(0.2x+0.5, 0, 1); Keras 3 = relu6(x+3)/6"),
    Spec("gelu_approximate", b_gelu_approximate, "functional",
         note="tf_keras file: TFOpLambda function nn.gelu with call kwarg approximate=true; "
              "Keras 3 file: operation class Gelu (module keras.src.ops.nn)"),
    Spec("relu_family", b_relu_family, "functional"),
    Spec("reshaping", b_reshaping, "sequential"),
    Spec("merge", b_merge, "functional"),
    Spec("padding_resize", b_padding_resize, "functional"),
    Spec("embedding_rnn", b_embedding_rnn, "sequential", inputs=[("int", 20)]),
    Spec("lstm", b_lstm, "functional"),
    Spec("lstm_keras2", b_lstm_keras2, "functional",
         note="recurrent_activation=hard_sigmoid (Keras 2.3.1 default), so Keras 3 differs"),
    Spec("gru", b_gru, "functional"),
    Spec("bidirectional", b_bidirectional, "sequential", forms=FORMS),
    Spec("bidirectional_gru", b_bidirectional_gru, "functional"),
    Spec("time_distributed", b_time_distributed, "sequential", forms=FORMS),
    Spec("multi_io", b_multi_io, "functional"),
    Spec("nested", b_nested, "nested", forms=FORMS),
    Spec("shared", b_shared, "shared"),
]


# ---------------------------------------------------------------- weights and data


def random_value(name: str, shape, rng: np.random.RandomState) -> np.ndarray:
    """A random value for a variable, scaled so activations stay in a useful range."""
    shape = tuple(int(s) for s in shape)
    base = name.split("/")[-1].split(":")[0]
    if "variance" in base:  # BatchNormalization's moving_variance, Normalization's variance
        v = rng.uniform(0.5, 2.0, shape)
    elif "mean" in base:
        v = rng.normal(0.0, 0.5, shape)
    elif base == "gamma":
        v = rng.uniform(0.5, 1.5, shape)
    elif base in ("beta", "bias") or len(shape) <= 1:
        v = rng.normal(0.0, 0.3, shape)
    elif base == "alpha":  # PReLU
        v = rng.uniform(0.05, 0.5, shape)
    elif base == "embeddings":
        v = rng.normal(0.0, 0.5, shape)
    else:
        if "depthwise" in base:
            fan_in = int(np.prod(shape[:-2]))
        else:
            fan_in = int(np.prod(shape[:-1]))
        v = rng.normal(0.0, 1.0 / np.sqrt(max(fan_in, 1)), shape)
    return v.astype(np.float32)


def randomize(model, seed: int) -> None:
    rng = np.random.RandomState(seed)
    model.set_weights([random_value(v.name, v.shape, rng) for v in model.weights])


def make_inputs(model, spec_inputs, seed: int):
    rng = np.random.RandomState(seed + 1)
    arrays = []
    for i, t in enumerate(model.inputs):
        shape = (BATCH,) + tuple(int(d) for d in t.shape[1:])
        kind = spec_inputs[i] if spec_inputs else ("float",)
        if kind[0] == "int":
            arrays.append(rng.randint(0, kind[1], size=shape).astype(np.int32))
        else:
            arrays.append(rng.normal(0.0, 1.0, shape).astype(np.float32))
    return arrays


def as_list(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    if isinstance(x, dict):
        return list(x.values())
    return [x]


def run(model, inputs):
    feed = inputs if len(inputs) > 1 else inputs[0]
    return [np.asarray(o, dtype=np.float32) for o in as_list(model.predict(feed, verbose=0))]


def max_diff(a_list, b_list) -> float:
    return max(float(np.max(np.abs(a - b))) if a.size else 0.0 for a, b in zip(a_list, b_list))


def close(a_list, b_list) -> bool:
    return len(a_list) == len(b_list) and all(
        a.shape == b.shape and np.allclose(a, b, rtol=RTOL, atol=ATOL)
        for a, b in zip(a_list, b_list))


LAYER_CLASSES = set(n for n in dir(tf_keras.layers) if n[:1].isupper()) | {
    "Sequential", "Functional", "Model", "TFOpLambda"}


def config_classes(cfg, acc=None):
    """Keras layer class names in a model config, depth first, without initializers etc."""
    if acc is None:
        acc = []
    if isinstance(cfg, dict):
        cn = cfg.get("class_name")
        if isinstance(cn, str) and cn in LAYER_CLASSES and cn not in acc:
            acc.append(cn)
        for v in cfg.values():
            config_classes(v, acc)
    elif isinstance(cfg, list):
        for v in cfg:
            config_classes(v, acc)
    return acc


def config_activations(cfg, acc=None):
    if acc is None:
        acc = []
    if isinstance(cfg, dict):
        for key in ("activation", "recurrent_activation"):
            a = cfg.get(key)
            if isinstance(a, str) and a not in acc:
                acc.append(a)
        for v in cfg.values():
            config_activations(v, acc)
    elif isinstance(cfg, list):
        for v in cfg:
            config_activations(v, acc)
    return acc


def clear_sessions(seed: int) -> None:
    tf_keras.backend.clear_session()
    keras.backend.clear_session()
    tf_keras.utils.set_random_seed(seed)
    keras.utils.set_random_seed(seed)


def compile_and_step(model, inputs, seed: int, k) -> None:
    rng = np.random.RandomState(seed + 2)
    n_out = int(model.outputs[0].shape[-1])
    target = np.eye(n_out, dtype=np.float32)[rng.randint(0, n_out, size=BATCH)]
    model.compile(optimizer=k.optimizers.Adam(learning_rate=0.01),
                  loss="categorical_crossentropy")
    model.train_on_batch(inputs[0], target)


# ---------------------------------------------------------------- one model, all forms


def short_error(e: Exception, limit: int = 200) -> str:
    """The informative part of a Keras error as one line."""
    text = re.sub(r" at 0x[0-9a-fA-F]+", "", " ".join(str(e).split()))
    for marker in ("Exception encountered: ", "Exception encountered:"):
        if marker in text:
            text = text.split(marker, 1)[1]
    text = text or type(e).__name__
    return text[:limit]


def write_forms(spec: Spec, out_dir: str, forms=None, log=print) -> dict:
    """Build spec with tf_keras and Keras 3, write the requested forms into out_dir and
    return the manifest entry."""
    forms = tuple(forms or spec.forms)
    name = spec.name
    seed = seed_of(name)
    path = lambda suffix: os.path.join(out_dir, name + suffix)  # noqa: E731
    os.makedirs(out_dir, exist_ok=True)

    clear_sessions(seed)
    m2 = spec.build(tf_keras)
    randomize(m2, seed)
    inputs = make_inputs(m2, spec.inputs, seed)
    if spec.compiled:
        compile_and_step(m2, inputs, seed, tf_keras)
    ref = run(m2, inputs)
    weights = m2.get_weights()
    cfg2 = json.loads(m2.to_json())

    entry = {
        "name": name,
        "files": {},
        "inputs": [],
        "outputs": [],
        "layers": config_classes(cfg2),
        "activations": config_activations(cfg2),
        "structure": spec.structure,
        "document_model": spec.doc,
        "seed": seed,
    }
    for i, (t, a) in enumerate(zip(m2.inputs, inputs)):
        fn = f"{name}.input_{i}.npy"
        np.save(os.path.join(out_dir, fn), a)
        entry["inputs"].append({"file": fn, "shape": list(a.shape), "dtype": str(a.dtype),
                                "name": m2.input_names[i]})
    for i, o in enumerate(ref):
        fn = f"{name}.output_{i}.npy"
        np.save(os.path.join(out_dir, fn), o)
        entry["outputs"].append({"file": fn, "shape": list(o.shape), "dtype": str(o.dtype),
                                 "name": m2.output_names[i]})

    if "h5" in forms:
        m2.save(path(".h5"), save_format="h5")
        entry["files"]["h5"] = name + ".h5"
        back = tf_keras.models.load_model(path(".h5"), compile=False)
        if not close(run(back, inputs), ref):
            raise SystemExit(f"{name}: tf_keras reload of .h5 differs")
    if "weights_legacy_h5" in forms:
        m2.save_weights(path(".weights.legacy.h5"), save_format="h5")
        entry["files"]["weights_legacy_h5"] = name + ".weights.legacy.h5"
        clear_sessions(seed)
        fresh = spec.build(tf_keras)
        fresh.load_weights(path(".weights.legacy.h5"))
        if not close(run(fresh, inputs), ref):
            raise SystemExit(f"{name}: tf_keras load_weights of .weights.legacy.h5 differs")

    # Keras 3: same architecture, same values
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    m3 = spec.build(keras)
    w3 = m3.get_weights()
    if [w.shape for w in w3] != [w.shape for w in weights]:
        raise SystemExit(f"{name}: Keras 3 weight shapes differ: "
                         f"{[w.shape for w in w3]} vs {[w.shape for w in weights]}")
    m3.set_weights(weights)
    if spec.compiled:
        m3.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                   loss="categorical_crossentropy")
    out3 = run(m3, inputs)
    entry["keras3_matches"] = close(out3, ref)
    entry["keras3_max_abs_diff"] = float(f"{max_diff(out3, ref):.3g}")
    if not entry["keras3_matches"]:
        entry["keras3_outputs"] = []
        for i, o in enumerate(out3):
            fn = f"{name}.keras3_output_{i}.npy"
            np.save(os.path.join(out_dir, fn), o)
            entry["keras3_outputs"].append({"file": fn, "shape": list(o.shape),
                                            "dtype": str(o.dtype)})
    if "keras" in forms:
        m3.save(path(".keras"))
        entry["files"]["keras"] = name + ".keras"
        back = keras.saving.load_model(path(".keras"), compile=False)
        if not close(run(back, inputs), out3):
            raise SystemExit(f"{name}: Keras 3 reload of .keras differs")
    if "weights_h5" in forms:
        m3.save_weights(path(".weights.h5"))
        entry["files"]["weights_h5"] = name + ".weights.h5"
        keras.backend.clear_session()
        fresh = spec.build(keras)
        fresh.load_weights(path(".weights.h5"))
        if not close(run(fresh, inputs), out3):
            raise SystemExit(f"{name}: Keras 3 load_weights of .weights.h5 differs")

    # Does Keras 3 load the legacy file tf_keras wrote?
    if "h5" in forms:
        try:
            keras.backend.clear_session()
            back = keras.saving.load_model(path(".h5"), compile=False)
            got = run(back, inputs)
            entry["keras3_loads_h5"] = close(got, ref) or close(got, out3)
            entry["keras3_h5_matches_tf_keras"] = close(got, ref)
        except Exception as e:  # noqa: BLE001
            entry["keras3_loads_h5"] = False
            entry["keras3_h5_error"] = short_error(e)
    if spec.note:
        entry["note"] = spec.note
    log(f"{name}: {len(weights)} variables, keras3 "
        f"{'matches' if entry['keras3_matches'] else 'DIFFERS'} "
        f"(max {entry['keras3_max_abs_diff']}), keras3 loads .h5: "
        f"{entry.get('keras3_loads_h5')}")
    return entry


# ---------------------------------------------------------------- string-attribute variants


def _copy(src: str, dst: str) -> None:
    shutil.copyfile(src, dst)


def _strings(values) -> list[str]:
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def fixed_string_variant(src: str, dst: str) -> None:
    """Rewrite layer_names/weight_names as fixed-length NULLPAD ASCII arrays (Keras 2.3.1 with
    h5py 2.10), and model_config/keras_version/backend as fixed-length scalars."""
    _copy(src, dst)
    with h5py.File(dst, "r+") as f:
        def fix(obj):
            for key in list(obj.attrs.keys()):
                val = obj.attrs[key]
                if key in ("layer_names", "weight_names"):
                    if isinstance(val, np.ndarray) and val.dtype.kind in "OSU" and len(val):
                        names = [s.encode("ascii") for s in _strings(val)]
                        width = max(len(s) for s in names)
                        del obj.attrs[key]
                        obj.attrs.create(key, np.array(names, dtype=f"S{width}"))
                elif key in ("model_config", "keras_version", "backend", "training_config"):
                    s = val.decode("utf-8") if isinstance(val, bytes) else str(val)
                    del obj.attrs[key]
                    obj.attrs.create(key, np.bytes_(s.encode("utf-8")))
        fix(f)
        f.visititems(lambda _n, o: fix(o) if isinstance(o, h5py.Group) else None)


def split_names_variant(src: str, dst: str) -> None:
    """Split model_weights/@layer_names into layer_names0 and layer_names1 (the form Keras
    writes for lists over 64,512 bytes), keeping the string type."""
    _copy(src, dst)
    with h5py.File(dst, "r+") as f:
        g = f["model_weights"]
        names = _strings(g.attrs["layer_names"])
        dtype = h5py.string_dtype("utf-8")
        del g.attrs["layer_names"]
        half = (len(names) + 1) // 2
        g.attrs.create("layer_names0", np.array(names[:half], dtype=object), dtype=dtype)
        g.attrs.create("layer_names1", np.array(names[half:], dtype=object), dtype=dtype)


def describe_string_attr(path: str, obj_path: str, key: str) -> str:
    with h5py.File(path, "r") as f:
        aid = f[obj_path].attrs.get_id(key)
        t = aid.get_type()
        if t.get_class() != h5py.h5t.STRING:
            return f"class {t.get_class()}"
        kind = "vlen" if t.is_variable_str() else f"fixed {t.get_size()}"
        pad = {h5py.h5t.STR_NULLPAD: "NULLPAD", h5py.h5t.STR_NULLTERM: "NULLTERM",
               h5py.h5t.STR_SPACEPAD: "SPACEPAD"}[t.get_strpad()]
        cset = {h5py.h5t.CSET_ASCII: "ASCII", h5py.h5t.CSET_UTF8: "UTF-8"}[t.get_cset()]
        return f"{kind} {pad} {cset}"


def string_variants(out_dir: str, entries: dict, log=print) -> None:
    jobs = [("bidirectional", "fixedstr", fixed_string_variant),
            ("merge", "split", split_names_variant)]
    for name, form, fn in jobs:
        src = os.path.join(out_dir, name + ".h5")
        dst = os.path.join(out_dir, f"{name}.{form}.h5")
        fn(src, dst)
        clear_sessions(seed_of(name))
        back = tf_keras.models.load_model(dst, compile=False)
        ins = [np.load(os.path.join(out_dir, i["file"])) for i in entries[name]["inputs"]]
        outs = [np.load(os.path.join(out_dir, o["file"])) for o in entries[name]["outputs"]]
        ok = close(run(back, ins), outs)
        entries[name]["files"]["h5_" + form] = os.path.basename(dst)
        entries[name].setdefault("tf_keras_loads", {})["h5_" + form] = ok
        key = "layer_names0" if form == "split" else "layer_names"
        log(f"{os.path.basename(dst)}: tf_keras loads it and matches: {ok}; "
            f"@{key}: {describe_string_attr(dst, 'model_weights', key)}; "
            f"@model_config: {describe_string_attr(dst, '/', 'model_config')}")


# ---------------------------------------------------------------- malformed files


def bad_files(out_dir: str, log=print) -> None:
    bad = os.path.join(out_dir, "bad")
    if os.path.isdir(bad):
        shutil.rmtree(bad)
    os.makedirs(bad)
    src = os.path.join(out_dir, "dense_small.h5")
    p = lambda n: os.path.join(bad, n)  # noqa: E731
    cases = []

    def case(file, fault, part, companions=()):
        c = {"file": file, "fault": fault, "part": part}
        if companions:
            c["companions"] = list(companions)
        cases.append(c)

    with h5py.File(src, "r") as f:
        kernel = f["model_weights/dense/dense/kernel:0"][()]
        config = json.loads(f.attrs["model_config"])

    # 1. valid HDF5 tensor tree, no Keras model
    rng = np.random.RandomState(7)
    with h5py.File(p("not_keras.h5"), "w") as f:
        f.create_dataset("encoder/weight", data=rng.normal(size=(4, 3)).astype(np.float32))
        f.create_dataset("encoder/bias", data=rng.normal(size=(3,)).astype(np.float32))
        f.create_dataset("step", data=np.int64(12))
        f.attrs["description"] = "plain tensor tree"
    case("not_keras.h5", "not keras (valid tensor tree)", "model_config")

    # 2. truncated at 50%
    data = open(src, "rb").read()
    with open(p("truncated.h5"), "wb") as f:
        f.write(data[: len(data) // 2])
    case("truncated.h5", "truncated at 50% of the file", "truncated.h5")

    # 3. weights group missing for a layer the config names
    _copy(src, p("missing_weights_group.h5"))
    with h5py.File(p("missing_weights_group.h5"), "r+") as f:
        g = f["model_weights"]
        del g["dense_1"]
        names = [n for n in _strings(g.attrs["layer_names"]) if n != "dense_1"]
        del g.attrs["layer_names"]
        g.attrs.create("layer_names", np.array(names, dtype=object),
                       dtype=h5py.string_dtype("utf-8"))
    case("missing_weights_group.h5",
         "model_config names layer dense_1 but model_weights has no group (and layer_names "
         "no entry) for it", "dense_1")

    def edit_config(fname, mutate):
        _copy(src, p(fname))
        cfg = json.loads(json.dumps(config))
        mutate(cfg)
        with h5py.File(p(fname), "r+") as f:
            f.attrs["model_config"] = json.dumps(cfg)

    # 4. kernel shape disagrees with config
    def units6(cfg):
        layer = next(l for l in cfg["config"]["layers"] if l["config"].get("name") == "dense")
        layer["config"]["units"] = 6

    edit_config("shape_mismatch.h5", units6)
    case("shape_mismatch.h5", "config says Dense dense has units=6, its kernel:0 is (10, 5) "
         "(and dense_1's kernel (5, 2) no longer fits its input)", "dense/kernel:0")

    # 5. unknown layer class
    def frob(cfg):
        layer = next(l for l in cfg["config"]["layers"] if l["config"].get("name") == "dense_1")
        layer["class_name"] = "Frobnicate"

    edit_config("unknown_layer.h5", frob)
    case("unknown_layer.h5", "layer class Frobnicate", "Frobnicate")

    # 6. external link inside model_weights
    with h5py.File(p("external_link_target.h5"), "w") as f:
        f.create_dataset("kernel", data=kernel)
    _copy(src, p("external_link.h5"))
    with h5py.File(p("external_link.h5"), "r+") as f:
        g = f["model_weights/dense/dense"]
        del g["kernel:0"]
        g["kernel:0"] = h5py.ExternalLink("external_link_target.h5", "/kernel")
    case("external_link.h5", "external link to another file inside model_weights",
         "model_weights/dense/dense/kernel:0", ["external_link_target.h5"])

    # 7. dataset with external raw storage
    with open(p("external_raw.bin"), "wb") as f:
        f.write(kernel.astype("<f4").tobytes())
    _copy(src, p("external_storage.h5"))
    with h5py.File(p("external_storage.h5"), "r+") as f:
        g = f["model_weights/dense/dense"]
        del g["kernel:0"]
        g.create_dataset("kernel:0", shape=kernel.shape, dtype="<f4",
                         external=[("external_raw.bin", 0, kernel.nbytes)])
    case("external_storage.h5", "dataset stored in an external raw file",
         "model_weights/dense/dense/kernel:0", ["external_raw.bin"])

    # 8. virtual dataset mapped onto another file
    with h5py.File(p("vds_source.h5"), "w") as f:
        f.create_dataset("kernel", data=kernel)
    _copy(src, p("virtual_dataset.h5"))
    with h5py.File(p("virtual_dataset.h5"), "r+") as f:
        g = f["model_weights/dense/dense"]
        del g["kernel:0"]
        layout = h5py.VirtualLayout(shape=kernel.shape, dtype="<f4")
        layout[...] = h5py.VirtualSource("vds_source.h5", "kernel", shape=kernel.shape)
        g.create_virtual_dataset("kernel:0", layout, fillvalue=0)
    case("virtual_dataset.h5", "virtual dataset mapped onto another file",
         "model_weights/dense/dense/kernel:0", ["vds_source.h5"])

    # What tf_keras makes of each (run from inside bad/ so relative paths resolve there)
    here = os.getcwd()
    os.chdir(bad)
    try:
        ref_in = np.load(os.path.join(out_dir, "dense_small.input_0.npy"))
        ref_out = np.load(os.path.join(out_dir, "dense_small.output_0.npy"))
        for c in cases:
            try:
                clear_sessions(0)
                m = tf_keras.models.load_model(c["file"], compile=False)
                same = close(run(m, [ref_in]), [ref_out])
                if same:
                    c["tf_keras"] = "loads without a word, outputs match dense_small"
                elif any(not w.any() for w in m.get_weights()):
                    c["tf_keras"] = ("loads without a word, with a kernel of zeros (fill value): "
                                     "outputs wrong")
                else:
                    c["tf_keras"] = "loads without a word, outputs differ"
            except Exception as e:  # noqa: BLE001
                c["tf_keras"] = f"refuses: {type(e).__name__}: {short_error(e, 160)}"
            log(f"bad/{c['file']}: tf_keras load_model {c['tf_keras']}")
    finally:
        os.chdir(here)
    # What plain h5py (opening by path) reads for the outside-data cases, from the bad/
    # folder and from its parent
    for c in cases:
        if not c.get("companions"):
            continue
        for where, cwd in (("cwd_bad", bad), ("cwd_parent", out_dir)):
            os.chdir(cwd)
            try:
                with h5py.File(os.path.join(bad, c["file"]), "r") as f:
                    got = f["model_weights/dense/dense/kernel:0"][()]
                if np.array_equal(got, kernel):
                    r = "reads the real kernel from the other file"
                elif not got.any():
                    r = "reads zeros (fill value) without an error"
                else:
                    r = "reads other values"
            except Exception as e:  # noqa: BLE001
                r = f"error: {short_error(e, 120)}"
            finally:
                os.chdir(here)
            c.setdefault("h5py_by_path", {})[where] = r
        log(f"bad/{c['file']}: h5py by path {c['h5py_by_path']}")
    write_json(os.path.join(bad, "cases.json"), cases)


# ---------------------------------------------------------------- layout listing


def h5_tree(path: str) -> list[str]:
    lines = []
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                lines.append(f"  {name}  {tuple(obj.shape)} {obj.dtype}")
            elif "weight_names" in obj.attrs:
                wn = obj.attrs["weight_names"]
                wn = _strings(wn) if wn.dtype.kind in "OSU" else f"[] ({wn.dtype} {wn.shape})"
                lines.append(f"  {name}/  @weight_names={wn}")
            elif "name" in obj.attrs:
                lines.append(f"  {name}/  @name={_strings([obj.attrs['name']])[0]}")
        for key in ("layer_names", "layer_names0", "layer_names1"):
            for g in (f, f.get("model_weights")):
                if g is not None and key in g.attrs:
                    lines.append(f"  {g.name}@{key}={_strings(g.attrs[key])}")
        f.visititems(visit)
    return lines


def layouts(out_dir: str, entries: list) -> None:
    out = ["# Weight layouts of the fixtures",
           "",
           "Generated by tools/make_keras_fixtures.py from the files themselves: every group and",
           "dataset, with `@weight_names` (legacy) and the `vars/@name` attribute (Keras 3).",
           "`.keras` holds the same tree as `.weights.h5` in its `model.weights.h5` member.",
           ""]
    for e in entries:
        out.append(f"## {e['name']}")
        out.append("")
        out.append("layers: " + ", ".join(e["layers"]))
        out.append("")
        for form in ("weights_legacy_h5", "h5", "weights_h5"):
            fn = e["files"].get(form)
            if not fn or (form == "h5" and "weights_legacy_h5" in e["files"]):
                continue
            out.append(f"`{fn}`")
            out.append("```")
            out.extend(h5_tree(os.path.join(out_dir, fn)))
            out.append("```")
        if "weights_h5" not in e["files"] and "keras" in e["files"]:
            fn = e["files"]["keras"]
            with zipfile.ZipFile(os.path.join(out_dir, fn)) as z:
                tmp = os.path.join(out_dir, ".tmp.weights.h5")
                with open(tmp, "wb") as f:
                    f.write(z.read("model.weights.h5"))
            out.append(f"`{fn}` (model.weights.h5)")
            out.append("```")
            out.extend(h5_tree(tmp))
            out.append("```")
            os.remove(tmp)
        out.append("")
    with open(os.path.join(out_dir, "LAYOUTS.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(out))


def write_json(path: str, obj) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


# ---------------------------------------------------------------- big models (not committed)


def b_embedding_lstm_big(k):
    L = k.layers
    return k.Sequential([k.Input((32,), dtype="int32"), L.Embedding(10000, 256), L.LSTM(32),
                         L.Dense(10000, activation="softmax")], name="embedding_lstm_big")


def b_mobilenet_v2(k):
    return k.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3), classes=1000)


BIG_SPECS = [
    Spec("embedding_lstm_big", b_embedding_lstm_big, "sequential", inputs=[("int", 10000)],
         doc=True),
    Spec("mobilenet_v2", b_mobilenet_v2, "functional", doc=True,
         note="keras.applications.MobileNetV2(weights=None) with random weights"),
]


def build_big_models(k=None, randomized=True) -> dict:
    """The models too large to commit, built with module k (default tf_keras), seeded random
    weights. Returns {name: model}. Use write_forms(spec, dir) for files + references."""
    k = k or tf_keras
    models = {}
    for spec in BIG_SPECS:
        seed = seed_of(spec.name)
        clear_sessions(seed)
        m = spec.build(k)
        if randomized:
            randomize(m, seed)
        models[spec.name] = m
    return models


def write_big_models(out_dir: str, log=print) -> list:
    return [write_forms(s, out_dir, forms=FORMS, log=log) for s in BIG_SPECS]


# ---------------------------------------------------------------- main


def folder_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--all-forms", action="store_true",
                    help="write all four forms for the large document models too")
    ap.add_argument("--only", nargs="*", help="model names (skips variants and bad/)")
    ap.add_argument("--big", metavar="DIR", help="write the big models into DIR and exit")
    args = ap.parse_args(argv)

    if args.big:
        write_json(os.path.join(args.big, "manifest.json"), write_big_models(args.big))
        return 0

    out = os.path.abspath(args.out)
    specs = [s for s in SPECS if not args.only or s.name in args.only]
    if not args.only and os.path.isdir(out):
        for fn in os.listdir(out):
            full = os.path.join(out, fn)
            if fn in ("README.md",):
                continue
            if os.path.isdir(full):
                shutil.rmtree(full)
            else:
                os.remove(full)
    os.makedirs(out, exist_ok=True)

    entries = {}
    for spec in specs:
        entries[spec.name] = write_forms(spec, out, forms=FORMS if args.all_forms else None)
    if args.only:
        return 0
    string_variants(out, entries)
    bad_files(out)
    ordered = [entries[s.name] for s in specs]
    write_json(os.path.join(out, "manifest.json"), ordered)
    layouts(out, ordered)
    print(f"total size of {out}: {folder_size(out) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
