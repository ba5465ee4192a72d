# The two README commands (DESIGN.md "The two README commands"): `make run` and `make test`.
#
#   make run    PORT=8000 DEMO_HOUSEHOLDS=20000 ANJU_DATA_DIR=./var   demo site on http://127.0.0.1:$(PORT)
#   make test   [PYTEST_ARGS="-m browser"]   ruff, then the whole pytest suite (DATABASE_URL picks PostgreSQL)
#   make lint   ruff only

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Rebuilt whenever pyproject.toml changes, so a pull that adds a dependency installs it on the next run.
STAMP := $(VENV)/.installed
PORT ?= 8000
DEMO_HOUSEHOLDS ?= 20000
PYTEST_ARGS ?=

.PHONY: help run test lint install

help:
	@echo "make run    迁移数据库、载入演示数据并在 http://127.0.0.1:$(PORT) 提供服务"
	@echo "make test   ruff 检查 + 全部测试（设置 DATABASE_URL 则在 PostgreSQL 上运行）"
	@echo "make lint   只运行 ruff 检查"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/anju migrate --noinput
	$(BIN)/anju demo --households $(DEMO_HOUSEHOLDS) --seed 2021 --if-empty
	$(BIN)/anju alerts refresh
	@echo "安居演示站点：http://127.0.0.1:$(PORT)/  （Ctrl+C 停止）"
	$(BIN)/waitress-serve --listen=127.0.0.1:$(PORT) --threads=8 anju.wsgi:application

lint: $(STAMP)
	$(BIN)/ruff check .

# pytest exits 5 when it collected nothing: an empty suite must not pass.
test: lint
	@rc=0; $(BIN)/pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest 没有收集到任何测试：视为失败" >&2; exit 1; fi; \
	exit $$rc
