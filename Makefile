# Ferry: `make demo` and `make test` work on a fresh Debian machine with Swift installed.
# Missing Debian packages are installed with apt-get; Python tools for interop checks go into .venv.

SHELL := /bin/bash
APT_PACKAGES := protobuf-c-compiler libprotobuf-c-dev libhdf5-dev pkg-config
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
SHARED ?= ../shared
SWIFT_JOBS ?= $(shell nproc)
DEMO_DIR := .build/demo

.PHONY: demo test deps venv build build-tests unit interop conformance fixtures bench clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: tools/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --disable-pip-version-check -r tools/requirements.txt
	touch $@

venv: $(VENV)/.installed

build: deps
	swift build -c release -j $(SWIFT_JOBS)

build-tests: deps
	swift build --build-tests -j $(SWIFT_JOBS)

unit: build-tests
	swift test --skip-build

# The ONNX backend conformance cases, written by ../shared/tools from the onnx package in .venv.
CONFORMANCE := .build/onnx-conformance

$(CONFORMANCE)/.written: $(VENV)/.installed
	@if [ -f "$(SHARED)/tools/gen_onnx_conformance.py" ]; then \
	  rm -rf $(CONFORMANCE) && $(VPY) $(SHARED)/tools/gen_onnx_conformance.py $(CONFORMANCE) && touch $@; \
	fi

conformance: $(CONFORMANCE)/.written

interop: build-tests venv conformance
	@args=""; \
	if [ -d "$(SHARED)/models" ]; then args="--shared $(SHARED)"; fi; \
	if [ -f "$(CONFORMANCE)/.written" ]; then args="$$args --conformance $(CONFORMANCE)"; fi; \
	$(VPY) tools/interop_onnx.py --ferry .build/debug/ferry $$args

test: unit interop

demo: build venv
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	@echo "== ferry inspect (bundled ONNX model)"
	.build/release/ferry inspect Fixtures/onnx/valid/small_cnn.onnx
	@echo "== ferry convert: weights moved to external data next to the output"
	.build/release/ferry convert Fixtures/onnx/valid/small_cnn.onnx $(DEMO_DIR)/small_cnn.onnx --external-data small_cnn.weights --size-threshold 256
	@ls -l $(DEMO_DIR)
	@echo "== onnxruntime on the original and on Ferry's file"
	$(VPY) tools/compare_ort.py Fixtures/onnx/valid/small_cnn.onnx $(DEMO_DIR)/small_cnn.onnx

fixtures: venv
	$(VPY) tools/make_onnx_fixtures.py

bench: build venv
	$(VPY) tools/bench_io.py --ferry .build/release/ferry

clean:
	rm -rf .build $(VENV)
