# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
# AsyncAPI's reference parser (npm), pinned by its package-lock.json; `make test` runs it.
ASYNCAPI       := tools/asyncapi
ASYNCAPI_STAMP := $(ASYNCAPI)/node_modules/.installed

.PHONY: screenshots run test test-cluster test-image containers install node chromium varnish rum lint typecheck unit bench clean search-dictionary

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## node: Node.js and npm, from Debian's packages when missing (needs root)
node:
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	    if [ "$$(id -u)" -ne 0 ]; then \
	        echo "Node.js and npm are missing: sudo apt-get install -y nodejs npm" >&2; exit 1; \
	    fi; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm; \
	fi

# --ignore-scripts: the only install script among these packages is @scarf/scarf's telemetry.
$(ASYNCAPI_STAMP): $(ASYNCAPI)/package.json $(ASYNCAPI)/package-lock.json | node
	cd $(ASYNCAPI) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# The editorial UI's front end (/admin/), pinned by its package-lock.json, built by Vite into
# cms/admin_ui/static; served by the CMS itself (and shipped in its wheel), nothing from a CDN.
ADMIN_UI       := frontend
ADMIN_UI_BUILT := cms/admin_ui/static/.vite/manifest.json
$(ADMIN_UI)/node_modules/.installed: $(ADMIN_UI)/package.json $(ADMIN_UI)/package-lock.json | node
	cd $(ADMIN_UI) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@
$(ADMIN_UI_BUILT): $(ADMIN_UI)/node_modules/.installed $(ADMIN_UI)/vite.config.js $(wildcard $(ADMIN_UI)/src/*)
	cd $(ADMIN_UI) && npm run build

## chromium: Debian's headless Chromium for the browser tests, when missing (needs root)
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	    if [ "$$(id -u)" -ne 0 ]; then \
	        echo "Chromium is missing: sudo apt-get install -y chromium" >&2; exit 1; \
	    fi; \
	    apt-get -o DPkg::Lock::Timeout=600 update && DEBIAN_FRONTEND=noninteractive \
	        apt-get -o DPkg::Lock::Timeout=600 install -y chromium; \
	fi

install: $(STAMP) $(ASYNCAPI_STAMP) $(ADMIN_UI_BUILT)

## run: venv, install, migrate, then API (and, as they land, relay and consumers) on 127.0.0.1:8000
run: install
	$(BIN)/cms up

## varnish: Varnish, its xkey vmod (varnish-modules) and wrk, from Debian's packages when missing (needs root)
# The purge tests run a real varnishd with deploy/varnish/default.vcl; the purge benches use wrk.
varnish:
	@if ! command -v varnishd >/dev/null 2>&1 || ! command -v wrk >/dev/null 2>&1 \
	    || ! ls /usr/lib/*/varnish/vmods/libvmod_xkey.so >/dev/null 2>&1; then \
	    if [ "$$(id -u)" -ne 0 ]; then \
	        echo "Varnish is missing: sudo apt-get install -y varnish varnish-modules wrk" >&2; exit 1; \
	    fi; \
	    apt-get -o DPkg::Lock::Timeout=600 update \
	        && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y varnish varnish-modules wrk; \
	fi

## rum: PostgreSQL's RUM index extension, from Debian's packages when missing (needs root); search
## uses it where it is, and the tests cover both that path and the one without it
rum:
	@for version in $$(ls /usr/lib/postgresql 2>/dev/null); do \
	    if [ ! -f "/usr/share/postgresql/$$version/extension/rum.control" ]; then \
	        if [ "$$(id -u)" -ne 0 ]; then \
	            echo "RUM is missing: sudo apt-get install -y postgresql-$$version-rum" >&2; exit 1; \
	        fi; \
	        apt-get -o DPkg::Lock::Timeout=600 update \
	        && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
	            "postgresql-$$version-rum" || exit 1; \
	    fi; \
	done

## test: install, lint, type-check, then the whole suite against the real services
test: install chromium varnish rum search-dictionary lint typecheck
	$(BIN)/pytest

## search-dictionary: the German Hunspell dictionary search splits compounds with (Debian's
## hunspell-de-de), installed when missing (needs root); others may run apt at the same time
SEARCH_DICTIONARY ?= /usr/share/hunspell/de_DE.dic
search-dictionary:
	@if [ ! -f "$(SEARCH_DICTIONARY)" ]; then \
	    if [ "$$(id -u)" -ne 0 ]; then \
	        echo "$(SEARCH_DICTIONARY) is missing: sudo apt-get install -y hunspell-de-de" >&2; exit 1; \
	    fi; \
	    apt-get -o DPkg::Lock::Timeout=600 update \
	    && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y hunspell-de-de; \
	fi

## screenshots: run the browser tests and write their screenshots into docs/screenshots/
screenshots: install chromium
	CMS_SCREENSHOTS_UPDATE=1 $(BIN)/pytest tests/browser

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

## test-cluster: opt-in; a three-node RabbitMQ cluster on loopback loses its queue leader mid-stream
test-cluster: install
	$(BIN)/pytest -m cluster tests/cluster -s

# The shared tools sit beside the repository; the setup prepares podman for this kind of machine
# (runc, rlimits) and builds local stand-ins for the base images, since no registry is reachable.
CONTAINERS_SETUP ?= ../shared/tools/containers-setup.sh

## containers: podman, runc, podman-compose and debootstrap from Debian's packages when missing (needs root)
containers:
	@if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1 \
	    || ! command -v podman-compose >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then \
	    if [ "$$(id -u)" -ne 0 ]; then \
	        echo "podman is missing: sudo apt-get install -y podman runc podman-compose debootstrap" >&2; exit 1; \
	    fi; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y podman runc podman-compose debootstrap; \
	fi

## test-image: opt-in; builds deploy/Dockerfile with podman and runs every role from it on this machine
test-image: install containers
	@if [ ! -f "$(CONTAINERS_SETUP)" ]; then \
	    echo "test-image: $(CONTAINERS_SETUP) is missing (expected beside the repository, as ../shared/);" \
	         "set CONTAINERS_SETUP=path/to/containers-setup.sh" >&2; exit 1; \
	fi
	bash -c '. "$(CONTAINERS_SETUP)" && exec $(BIN)/pytest -m image tests/image -s'

unit: install
	$(BIN)/pytest tests/unit

bench: install
	$(BIN)/python -m bench.read
	$(BIN)/python -m bench.write

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache $(ASYNCAPI)/node_modules $(ADMIN_UI)/node_modules cms/admin_ui/static
