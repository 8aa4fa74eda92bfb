# Ferry: `make demo` and `make test` work on a fresh Debian machine with Swift installed.
# Missing Debian packages are installed with apt-get; Python tools for interop checks go into .venv.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
APT_PACKAGES := protobuf-c-compiler libprotobuf-c-dev libhdf5-dev libopenblas-dev pkg-config
# For the checks of `inspect --graph` (Graphviz's dot, a headless browser): they skip with a
# message when these cannot be installed.
OPTIONAL_APT_PACKAGES := graphviz chromium
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
SHARED ?= ../shared
SWIFT_JOBS ?= $(shell nproc)
DEMO_DIR := .build/demo

.PHONY: demo test deps venv build build-tests unit interop example docs format format-check conformance fixtures fixtures-keras bench clean fuzz fuzz-seeds fuzz-short sanitize check-large

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi
	@missing=""; for p in $(OPTIONAL_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing optional Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  { $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; } \
	    || echo "could not install$$missing: the checks that need them skip"; \
	fi

$(VENV)/.installed: tools/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --disable-pip-version-check -r tools/requirements.txt
	touch $@

# TensorFlow, tf-keras and Keras 3, for the checks that load Ferry's .h5 files in Keras itself.
$(VENV)/.keras-installed: $(VENV)/.installed tools/requirements-keras.txt
	$(VPY) -m pip install -q --disable-pip-version-check -r tools/requirements-keras.txt
	touch $@

# torch, for the PyTorch checkpoint checks (tools/interop_torch.py). Without it (or offline) those
# checks are skipped with a message, and make test goes on.
$(VENV)/.torch-installed: $(VENV)/.installed tools/requirements-torch.txt
	@$(VPY) -m pip install -q --disable-pip-version-check -r tools/requirements-torch.txt \
	  || echo "torch could not be installed: tools/interop_torch.py will skip its checks"
	touch $@

# torch, for the modern benchmark set (tools/make_modern_bench.py), and OpenVINO, the third engine
# of tools/bench_vs_ort.py.
$(VENV)/.bench-installed: $(VENV)/.torch-installed tools/requirements-bench.txt
	$(VPY) -m pip install -q --disable-pip-version-check -r tools/requirements-bench.txt
	touch $@

venv: $(VENV)/.installed

# The C kernels are compiled with -O3 (SwiftPM's release default is lower); Package.swift carries no flags.
build: deps
	swift build -c release -j $(SWIFT_JOBS) -Xcc -O3

# Debug builds for the tests are optimised (the tests and interop checks run real models): the
# flags live here, not in Package.swift, so that other packages can depend on Ferry by version.
DEBUG_OPTIMIZE := -Xswiftc -O -Xcc -O3

build-tests: deps
	swift build --build-tests -j $(SWIFT_JOBS) $(DEBUG_OPTIMIZE)

# AVX-512 VNNI machines run the int8 checks a second time with those paths off (FERRY_ISA=avx2), so
# they compute what an AVX2-only CPU computes; elsewhere the first run already is that run.
AVX512 := $(shell grep -q avx512_vnni /proc/cpuinfo 2>/dev/null && echo yes)
define avx2_pass
	@if [ "$(AVX512)" = yes ]; then echo "== again with the AVX-512 paths off (FERRY_ISA=avx2)"; FERRY_ISA=avx2 $(1); \
	else echo "== this CPU has no AVX-512 VNNI: the run above took the AVX2 paths (FERRY_ISA=avx2 pass not repeated)"; fi
endef

# The conformance cases are written first so the interpreter's conformance test can run them.
unit: build-tests conformance
	swift test --skip-build
	$(call avx2_pass,swift test --skip-build)
	@echo "== again with the portable C paths only (FERRY_ISA=portable)"
	FERRY_ISA=portable swift test --skip-build
	@echo "== the worker pool's race test alone (Swift Testing runs suites in parallel, which share the pool)"
	swift test --skip-build --filter ParallelForTests

# The ONNX backend conformance cases, written by ../shared/tools from the onnx package in .venv.
CONFORMANCE := .build/onnx-conformance

$(CONFORMANCE)/.written: $(VENV)/.installed
	@if [ -f "$(SHARED)/tools/gen_onnx_conformance.py" ]; then \
	  rm -rf $(CONFORMANCE) && $(VPY) $(SHARED)/tools/gen_onnx_conformance.py $(CONFORMANCE) && touch $@; \
	fi

conformance: $(CONFORMANCE)/.written

# A MobileNetV3Small trained here on photo crops (tools/make_photo_classifier.py, ~2 minutes on
# 2 cores), with its calibration, validation and held-out photo sets: interop_quantize.py's
# calibration check.
PHOTO_CLASSIFIER := .build/photo-classifier
$(PHOTO_CLASSIFIER)/.made: tools/make_photo_classifier.py $(VENV)/.keras-installed
	$(VPY) tools/make_photo_classifier.py $(PHOTO_CLASSIFIER)
	touch $@

interop: build-tests venv $(VENV)/.keras-installed $(VENV)/.torch-installed conformance $(PHOTO_CLASSIFIER)/.made
	@args=""; \
	if [ -d "$(SHARED)/models" ]; then args="--shared $(SHARED)"; fi; \
	if [ -f "$(CONFORMANCE)/.written" ]; then args="$$args --conformance $(CONFORMANCE)"; fi; \
	$(VPY) tools/interop_onnx.py --ferry .build/debug/ferry $$args
	$(VPY) tools/interop_keras.py --ferry .build/debug/ferry
	$(VPY) tools/check_keras_applications.py --ferry .build/debug/ferry
	$(VPY) tools/interop_low_precision.py --ferry .build/debug/ferry
	@args=""; if [ -d "$(SHARED)/models" ]; then args="--shared $(SHARED)"; fi; \
	$(VPY) tools/interop_half.py --ferry .build/debug/ferry $$args
	$(VPY) tools/interop_nbits.py --ferry .build/debug/ferry
	$(VPY) tools/interop_torch.py --ferry .build/debug/ferry
	@args=""; if [ -d "$(SHARED)/models" ]; then args="--shared $(SHARED)"; fi; \
	$(VPY) tools/interop_tools.py --ferry .build/debug/ferry $$args
	@args=""; if [ -d "$(SHARED)/models" ]; then args="--shared $(SHARED)"; fi; \
	$(VPY) tools/interop_opset.py --ferry .build/debug/ferry $$args
	@args=""; if [ -d "$(SHARED)/models" ]; then args="--shared $(SHARED)"; else echo "interop: $(SHARED)/models is absent: the passes' checks skip the shared pretrained model"; fi; \
	$(VPY) tools/interop_optimize.py --ferry .build/debug/ferry $$args && \
	$(VPY) tools/interop_prune.py --ferry .build/debug/ferry $$args && \
	$(VPY) tools/interop_quantize.py --ferry .build/debug/ferry --photo-classifier $(PHOTO_CLASSIFIER) $$args
	$(call avx2_pass,$(VPY) tools/interop_quantize.py --ferry .build/debug/ferry --photo-classifier $(PHOTO_CLASSIFIER) $(if $(wildcard $(SHARED)/models),--shared $(SHARED)))
	$(VPY) tools/update_conformance_manifest.py --check | tail -1
	$(VPY) tools/gen_opset_history.py --check
	@if [ -d "$(SHARED)/models" ]; then $(VPY) tools/check_models.py --ferry .build/debug/ferry --shared $(SHARED); \
	else echo "check_models: $(SHARED)/models is absent: skipping the shared pretrained model"; $(VPY) tools/check_models.py --ferry .build/debug/ferry; fi

test: format-check unit fuzz-short interop example docs

# Fuzzing. ferry-fuzz reads each input with one of Ferry's readers (Sources/FerryFuzz): an error
# is fine, a crash or an error of more than one line is a finding. Seeds are made from the
# fixtures; findings are kept as regression inputs in Fixtures/fuzz/<target> (HDF5's in
# Fixtures/hdf5/hostile). `make test` runs fuzz-short: every regression input, and seeded
# mutations of the seeds (bit flips, integer overwrites, truncations, splices) without coverage
# guidance. `make fuzz` builds ferry-fuzz with libFuzzer's coverage and AddressSanitizer (libFuzzer
# ships with the Swift toolchain; ferry-fuzz's own main calls its driver) and runs each target for
# FUZZ_SECONDS, then the structure fuzz; FUZZING.md has the figures.
FUZZ_SEEDS := .build/fuzz-seeds
FUZZ_IN_PROCESS := onnx safetensors torch npy npz keras-config hdf5-reply
FUZZ_MUTATIONS ?= 20000
FUZZ_SECONDS ?= 300
FUZZ_STRUCTURE_MUTATIONS ?= 20000

# The seeds need the freshly built ferry (safetensors seeds are converted by it): made every time.
fuzz-seeds: build-tests
	python3 tools/make_fuzz_seeds.py --ferry .build/debug/ferry $(FUZZ_SEEDS)

fuzz-short: fuzz-seeds
	@for t in $(FUZZ_IN_PROCESS); do 	  if [ -d Fixtures/fuzz/$$t ]; then .build/debug/ferry-fuzz $$t Fixtures/fuzz/$$t || exit 1; fi; 	  .build/debug/ferry-fuzz $$t --mutate $(FUZZ_MUTATIONS) $(FUZZ_SEEDS)/$$t || exit 1; 	done
	.build/debug/ferry-fuzz onnx-structure Fixtures/fuzz/onnx-structure
	.build/debug/ferry-fuzz onnx-structure --mutate 300 $(FUZZ_SEEDS)/onnx
	.build/debug/ferry-fuzz hdf5 Fixtures/hdf5/hostile
	.build/debug/ferry-fuzz hdf5 --mutate 100 $(FUZZ_SEEDS)/hdf5
	.build/debug/ferry-fuzz keras --mutate 50 $(FUZZ_SEEDS)/keras

fuzz: deps fuzz-seeds
	swift build -c release --product ferry-fuzz --scratch-path .build/fuzz -j $(SWIFT_JOBS) \
	  -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address,fuzzer-no-link -Xlinker --undefined=LLVMFuzzerRunDriver -Xswiftc -use-ld=lld
	@mkdir -p .build/fuzz-findings
	@for t in $(FUZZ_IN_PROCESS); do \
	  mkdir -p .build/fuzz-corpus/$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan-suppressions.txt \
	  .build/fuzz/release/ferry-fuzz $$t --fuzz .build/fuzz-corpus/$$t $(FUZZ_SEEDS)/$$t -max_total_time=$(FUZZ_SECONDS) \
	    -rss_limit_mb=4096 -timeout=10 -print_final_stats=1 -artifact_prefix=.build/fuzz-findings/$$t- 2>&1 | \
	    grep -E "^(stat::|#[0-9]+[[:space:]]+(INITED|DONE)|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)" || exit 1; \
	done
	@echo "== structure fuzz: $(FUZZ_STRUCTURE_MUTATIONS) damaged models (AddressSanitizer build)"
	.build/fuzz/release/ferry-fuzz onnx-structure --mutate $(FUZZ_STRUCTURE_MUTATIONS) $(FUZZ_SEEDS)/onnx

# `ferry convert --dtype float16` on a model over 2 GiB, run in onnxruntime and Ferry (writes 6.6 GiB
# under a temporary folder; not part of make test).
check-large: build venv
	$(VPY) tools/check_large_half.py --ferry .build/release/ferry

# Sanitizers: the unit suite under AddressSanitizer (UndefinedBehaviorSanitizer on the C code:
# Swift has no such mode, it traps on overflow and bounds itself; leak checks are make fuzz's, per
# input: at the test process's exit LeakSanitizer only lists test fixtures held in globals), and
# the tests that run threads at once under ThreadSanitizer, each build in its own folder (not part of make
# test: the two builds and the instrumented runs take long; FUZZING.md records the durations).
SANITIZE_FLAGS := -Xswiftc -O -Xcc -O1 -Xcc -fno-omit-frame-pointer
sanitize: deps conformance
	swift build --build-tests --scratch-path .build/asan -j $(SWIFT_JOBS) --sanitize=address -Xcc -fsanitize=undefined $(SANITIZE_FLAGS)
	ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan-suppressions.txt \
	  swift test --skip-build --scratch-path .build/asan --sanitize=address
	swift build --build-tests --scratch-path .build/tsan -j $(SWIFT_JOBS) --sanitize=thread $(SANITIZE_FLAGS)
	swift test --skip-build --scratch-path .build/tsan --sanitize=thread --filter "ConcurrentRun|ParallelFor|Recurrent"

# swift-format (shipped with the toolchain) with .swift-format: `make format` rewrites the Swift
# files in place; `make format-check` (part of make test) fails when one is not formatted.
SWIFT_FORMAT_PATHS := Sources Tests Examples Package.swift
format:
	swift-format format --in-place --recursive --parallel $(SWIFT_FORMAT_PATHS)
format-check:
	@unformatted=$$(for f in $$(git ls-files -co --exclude-standard '*.swift'); do \
	  swift-format format "$$f" | cmp -s - "$$f" || echo "$$f"; done); \
	if [ -n "$$unformatted" ]; then echo "not formatted (make format):"; echo "$$unformatted"; exit 1; fi; \
	echo "format-check: every Swift file is formatted"

# The DocC archive of Ferry (Sources/Ferry/Ferry.docc: overview, getting started), FerryIR,
# FerryRuntime and FerryPasses in .build/docs; a broken symbol link fails it. Its own build folder
# keeps the unoptimised symbol-graph build from replacing the test build.
docs: deps
	swift package --scratch-path .build/docs-build --allow-writing-to-directory .build/docs \
	  generate-documentation --target Ferry --target FerryIR --target FerryRuntime --target FerryPasses \
	  --enable-experimental-combined-documentation --output-path .build/docs --warnings-as-errors

# Examples/Digits depends on Ferry as another package does, by version: the working tree's files
# (tracked, and new ones git does not ignore) are committed to .build/example/ferry and tagged 0.1.0
# (a new commit each time: the example's Package.resolved, pinning the last one, is dropped).
EXAMPLE := .build/example
example: deps
	@rm -rf $(EXAMPLE) && mkdir -p $(EXAMPLE)/ferry $(EXAMPLE)/out
	@git ls-files -z --cached --others --exclude-standard | \
	  while IFS= read -r -d '' f; do [ -e "$$f" ] && printf '%s\0' "$$f"; done | \
	  xargs -0 cp --parents -t $(EXAMPLE)/ferry
	@cd $(EXAMPLE)/ferry && git init -q -b main && git add -A && \
	  git -c user.name=Ferry -c user.email=ferry@localhost commit -q -m "Ferry snapshot" && git tag 0.1.0
	rm -f Examples/Digits/Package.resolved
	cd Examples/Digits && swift build --scratch-path ../../$(EXAMPLE)/build -j $(SWIFT_JOBS)
	$(EXAMPLE)/build/debug/Digits Fixtures/digits $(EXAMPLE)/out

demo: build venv
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	@echo "== ferry inspect: a Keras model (the MNIST CNN, saved by tf.keras)"
	.build/release/ferry inspect Fixtures/keras/mnist_cnn.h5
	@echo "== ferry convert: Keras .h5 -> ONNX"
	.build/release/ferry convert Fixtures/keras/mnist_cnn.h5 $(DEMO_DIR)/mnist_cnn.onnx
	.build/release/ferry inspect $(DEMO_DIR)/mnist_cnn.onnx
	@echo "== onnxruntime on the converted model vs Keras's own outputs"
	$(VPY) tools/compare_keras.py $(DEMO_DIR)/mnist_cnn.onnx Fixtures/keras/mnist_cnn
	@echo "== ferry run: the converted model in Ferry's interpreter, on Keras's input"
	.build/release/ferry run $(DEMO_DIR)/mnist_cnn.onnx --input Fixtures/keras/mnist_cnn.input_0.npy --output-dir $(DEMO_DIR)/out
	$(VPY) -c "import numpy as np, glob; a = np.load(glob.glob('$(DEMO_DIR)/out/*.npy')[0]); b = np.load('Fixtures/keras/mnist_cnn.output_0.npy'); \
	print('Ferry vs Keras: max abs difference %.3g, same top-1 class on %d of %d images' % (abs(a - b).max(), (a.argmax(1) == b.argmax(1)).sum(), len(b)))"
	@echo "== ferry bench: latency in Ferry's interpreter"
	.build/release/ferry bench $(DEMO_DIR)/mnist_cnn.onnx --runs 50
	@echo "== ferry quantize: the digits CNN (Keras, trained on scikit-learn's digits) to static int8, calibrated on 200 held-out images"
	.build/release/ferry convert Fixtures/digits/digits_cnn.h5 $(DEMO_DIR)/digits.onnx
	.build/release/ferry quantize $(DEMO_DIR)/digits.onnx $(DEMO_DIR)/digits_int8.onnx --calibrate Fixtures/digits/calibration
	@echo "== ferry run: float and int8 on the 360 labelled test images"
	.build/release/ferry run $(DEMO_DIR)/digits.onnx --input Fixtures/digits/test_x.npy --output-dir $(DEMO_DIR)/digits_float
	.build/release/ferry run $(DEMO_DIR)/digits_int8.onnx --input Fixtures/digits/test_x.npy --output-dir $(DEMO_DIR)/digits_int8
	$(VPY) tools/demo_digits.py $(DEMO_DIR)/digits.onnx $(DEMO_DIR)/digits_int8.onnx $(DEMO_DIR)/digits_float/probs.npy $(DEMO_DIR)/digits_int8/probs.npy
	.build/release/ferry bench $(DEMO_DIR)/digits.onnx --input Fixtures/digits/test_x.npy --runs 30
	.build/release/ferry bench $(DEMO_DIR)/digits_int8.onnx --input Fixtures/digits/test_x.npy --runs 30

fixtures: venv
	$(VPY) tools/make_onnx_fixtures.py
	$(VPY) tools/make_hdf5_fixtures.py
	$(VPY) tools/make_control_fixtures.py
	$(VPY) tools/make_run_fixtures.py
	$(VPY) tools/make_quant_fixtures.py

# Keras fixtures need TensorFlow, tf-keras and Keras 3 (a large install); so does retraining the
# digits CNN (Fixtures/digits, deterministic).
fixtures-keras: venv $(VENV)/.keras-installed
	$(VPY) tools/make_keras_fixtures.py
	TF_CPP_MIN_LOG_LEVEL=3 CUDA_VISIBLE_DEVICES= $(VPY) tools/make_digits_fixture.py

bench: build venv $(VENV)/.keras-installed $(VENV)/.bench-installed
	$(VPY) tools/make_modern_bench.py .build/modern
	$(VPY) tools/bench_io.py --ferry .build/release/ferry
	$(VPY) tools/bench_keras.py --ferry .build/release/ferry
	$(VPY) tools/bench_keras_formats.py --ferry .build/release/ferry
	@args=""; if [ -d "$(SHARED)/models" ]; then args="--shared $(SHARED)"; fi; \
	$(VPY) tools/bench_vs_ort.py --ferry .build/release/ferry $$args --modern .build/modern --runs 15 --rounds 3 --threads 1,2 --openvino

clean:
	rm -rf .build $(VENV)
