# DTE Hub: `make up` starts the platform, `make test` runs the whole test suite.
# Both install what they need first (a virtual environment from requirements.lock, the pinned
# configurable-http-proxy from hub/proxy/package-lock.json, the DTE kernel spec, the JupyterLab
# launcher extension from extensions/labextension/package-lock.json).
# Bytecode is compiled at install: user code runs as accounts that cannot write to .venv, and
# would otherwise recompile every module at every process start.

# The environment is built on the system Python when it is recent enough: other Unix accounts
# (user servers in system-users mode, the unprivileged account that runs user code when the hub
# runs as root) must be able to execute it, and a Python under /root is private to root.
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys; assert sys.version_info >= (3, 11); print(sys.executable)' 2>/dev/null || echo python3)
# Any Python with pip, used once to fetch the pinned uv.
BOOT_PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
INSTALLED := $(VENV)/.installed
PROXY := hub/proxy/node_modules/.bin/configurable-http-proxy

.PHONY: install browser up test lint bench reset lock

install: $(INSTALLED) $(PROXY)

LABEXTENSION := $(VENV)/share/jupyter/labextensions/@dte-hub/jupyterlab

$(INSTALLED): requirements.lock pyproject.toml kernels/dte/kernel.json \
		$(wildcard extensions/jupyter_server_config.d/*.json) extensions/jupyter_server_config.json \
		extensions/voila/voila.json \
		extensions/lab_settings/overrides.d/dte-hub.json \
		$(wildcard extensions/voila/templates/dte/*) extensions/labextension/package.json \
		extensions/labextension/package-lock.json $(wildcard extensions/labextension/lib/*.js) \
		$(wildcard extensions/labextension/schema/*.json)
	test -x $(BIN)/uv || $(BOOT_PYTHON) -m uv --version > /dev/null 2>&1 || \
		$(BOOT_PYTHON) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	test -x $(BIN)/python || UV_PYTHON_DOWNLOADS=never $(BOOT_PYTHON) -m uv venv --quiet --python $(PYTHON) $(VENV)
	test -x $(BIN)/uv || $(BOOT_PYTHON) -m uv pip install --quiet --python $(BIN)/python uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	# JupyterLab: the lab extension (launcher, publish action), built from the npm registry
	# against this JupyterLab, before the package that lists its files
	PYTHON=$(BIN)/python extensions/labextension/build
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/jupyter kernelspec install kernels/dte --sys-prefix --name dte > /dev/null 2>&1
	install -D -m 644 -t $(VENV)/etc/jupyter/jupyter_server_config.d \
		extensions/jupyter_server_config.d/*.json
	# (jupyter_server reads only extension switches from the .d folder; the rest is here)
	rm -f $(VENV)/etc/jupyter/jupyter_server_config.d/dte-offline.json
	install -D -m 644 extensions/jupyter_server_config.json \
		$(VENV)/etc/jupyter/jupyter_server_config.json
	install -D -m 644 -t $(VENV)/share/jupyter/lab/settings/overrides.d \
		extensions/lab_settings/overrides.d/dte-hub.json
	# Voila: the "dte" template (no CDN stylesheets) and its settings, for every Voila here
	install -D -m 644 -t $(VENV)/share/jupyter/voila/templates/dte extensions/voila/templates/dte/*
	install -D -m 644 extensions/voila/voila.json $(VENV)/etc/jupyter/voila.json
	# an editable install places no data files: the built lab extension is copied in
	rm -rf $(LABEXTENSION)
	mkdir -p $(LABEXTENSION)
	cp -R extensions/labextension/dist/. $(LABEXTENSION)/
	touch $@

$(PROXY): hub/proxy/package.json hub/proxy/package-lock.json
	npm ci --prefix hub/proxy --no-audit --no-fund --loglevel=error
	touch $@

# Browser tests drive Debian's chromium (never a browser downloaded by Playwright).
browser:
	@command -v chromium > /dev/null || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; \
		else \
			echo "make test needs Debian's chromium: run 'sudo apt-get install chromium'"; exit 1; \
		fi; }

up: install
	$(BIN)/dte up

test: install browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/platform_startup.py
	$(BIN)/python bench/twins.py
	$(BIN)/python bench/catalog.py

reset: install
	$(BIN)/dte reset --yes

# Re-resolve the locked versions after changing dependencies in pyproject.toml.
lock:
	$(BIN)/uv pip compile --quiet --python-version 3.11 pyproject.toml --extra test \
		--override lock-overrides.txt -o requirements.lock
