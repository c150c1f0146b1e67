# Casestream: every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
RUN_DIR ?= $(CURDIR)/.run
export CASESTREAM_RUN_DIR := $(RUN_DIR)
export CASESTREAM_KAFKA_BOOTSTRAP ?= 127.0.0.1:9092
# Locally (make up, make demo) services run on the stream clock, so a story's days pass
# as fast as its events arrive; production (deploy/k8s) uses wall time.
export CASESTREAM_CLOCK ?= stream
PACKAGES := packages/casestream $(wildcard services/*/pyproject.toml) $(wildcard tools/*/pyproject.toml)
PKG_DIRS := packages/casestream $(patsubst %/pyproject.toml,%,$(filter %/pyproject.toml,$(PACKAGES)))
STAMP := $(VENV)/.installed

.PHONY: help setup kafka-up kafka-down kafka-status topics proto proto-check up down status test test-unit \
        test-integration test-e2e demo bench k8s-validate clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): requirements.lock $(addsuffix /pyproject.toml,$(PKG_DIRS))
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps $(addprefix -e ,$(PKG_DIRS))
	@touch $@

setup: $(STAMP) ## create the venv and install the pinned packages and ours (editable)

kafka-up: ## start a real single-node Kafka 3.9 (KRaft) on 127.0.0.1:9092; jars from Maven Central
	@tools/kafka/kafka.sh up

kafka-down: ## stop the local broker
	@tools/kafka/kafka.sh down

kafka-status:
	@tools/kafka/kafka.sh status

topics: setup ## create the topics with the contract's settings
	@$(PY) -m casestream.topics --bootstrap $(CASESTREAM_KAFKA_BOOTSTRAP)

proto: setup ## lint the protos with buf and regenerate the Python code
	$(VENV)/bin/buf lint
	$(VENV)/bin/buf generate
	$(PY) -m grpc_tools.protoc -Iproto --grpc_python_out=packages/casestream/src proto/casestream/v1/*.proto

proto-check: proto ## fail if the generated code is stale
	@git diff --exit-code -- packages/casestream/src/casestream/v1 || (echo "run make proto and commit" && exit 1)

up: setup kafka-up topics ## start the broker, topics and every service; wait until all are SERVING
	@$(PY) -m casestream.procs up

down: ## stop the services and the broker
	@-$(PY) -m casestream.procs down
	@tools/kafka/kafka.sh down

status: setup ## health, consumer lag and port of each service
	@$(PY) -m casestream.procs status

test: setup kafka-up topics ## the whole suite (unit, integration on the real broker, e2e)
	$(PY) -m pytest

test-unit: setup ## the pure, fast tests only
	$(PY) -m pytest tests/unit

demo: setup kafka-up ## the telecom story end to end on the local broker
	@$(MAKE) --no-print-directory up
	@$(PY) -m casestream_demo

bench: setup kafka-up topics ## throughput and latency, as ratios to the raw produce rate of this run
	@$(PY) -m casestream_bench

k8s-validate: ## render every overlay with kustomize and validate against the schemas
	@deploy/k8s/tools/validate.sh

clean: ## remove the run directory (broker data, logs, state)
	@tools/kafka/kafka.sh down
	rm -rf $(RUN_DIR)
