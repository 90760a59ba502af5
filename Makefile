# Two commands on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
VENDOR := shebao/web/static/vendor
# An unset SHEBAO_ENV means production (config/settings.py): every target that runs the
# app for a developer says development explicitly; `make test` says test.
DEV := SHEBAO_ENV=development

.PHONY: run test venv assets db lint lock browser bench clean receipt-fonts receipt-tools

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

venv: $(VENV)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp node_modules/weui/dist/style/weui.min.css $(VENDOR)/weui.min.css
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/weui/LICENSE.txt $(VENDOR)/weui-LICENSE.txt
	touch $@

assets: $(VENDOR)/.installed

db: venv
	$(DEV) $(PY) manage.py migrate --noinput
	$(DEV) $(PY) manage.py seed_demo
	$(DEV) $(PY) manage.py collectstatic --noinput -v0

run: venv assets db receipt-fonts
	@echo "掌上办 on http://127.0.0.1:$(PORT)  (demo logins in README.md)"
	rm -rf var/prometheus  # the processes' metric files start afresh with them
	$(DEV) SHEBAO_WEB_PORT=$(PORT) exec $(VENV)/bin/honcho --no-colour start -f Procfile

browser:
	@command -v chromium >/dev/null 2>&1 || command -v /usr/bin/chromium >/dev/null 2>&1 || \
		(apt-get install -y chromium fonts-noto-cjk >/dev/null || (apt-get update >/dev/null && apt-get install -y chromium fonts-noto-cjk >/dev/null))

test: venv assets browser receipt-fonts receipt-tools
	SHEBAO_ENV=test $(PY) -m pytest -n 2 --ignore=tests/browser $(PYTEST_ARGS)
	SHEBAO_ENV=test $(PY) -m pytest tests/browser $(PYTEST_ARGS)

receipt-fonts:
	@test -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc || \
		(apt-get install -y fonts-noto-cjk >/dev/null || (apt-get update >/dev/null && apt-get install -y fonts-noto-cjk >/dev/null))

receipt-tools:
	@(command -v pdftoppm && command -v zbarimg) >/dev/null 2>&1 || \
		(apt-get install -y poppler-utils zbar-tools >/dev/null || (apt-get update >/dev/null && apt-get install -y poppler-utils zbar-tools >/dev/null))

lint: venv
	$(VENV)/bin/ruff check shebao config tests

lock: venv
	$(VENV)/bin/pip freeze > requirements.lock

bench: venv assets
	$(DEV) $(PY) manage.py bench_flow $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var staticfiles test-artifacts
