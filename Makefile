# The README's two commands, on a fresh Debian 12 machine as root:
#   make run    install what is missing, build, start the engine on its defaults
#   make test   install what is missing, build, run every test under ctest,
#               once normally and once with ASan + UBSan (clang, with the fuzzers)
# CI=true turns compiler warnings into errors.

BUILD    ?= build
SANBUILD ?= build-sanitize
JOBS     ?= $(shell nproc)
WERROR   := $(if $(filter true,$(CI)),ON,OFF)

# Debian 12 packages: toolchain, the five libraries, GDCM for JPEG 2000
# (DCMTK 3.6.7 has no JPEG 2000 codec), cmocka, the real peers the
# integration tests talk to (dcmtk tools, python3-hl7's mllp_send), Orthanc
# as the PACS, pydicom's bundled real DICOM files with numpy and Pillow to
# decode their pixels, gdcmconv to decode what pydicom cannot (JPEG-LS),
# dciodvfy to check converted files, Node.js for the MPPS client
# (dcmjs-dimse, from npm), and what the tests and benchmarks use around them
# (pgrep, setpriv, strace, curl), libmicrohttpd for the HTTP listener,
# libcurl for the alerts' mail and webhook, aiosmtpd as the mail server the
# alert tests receive with, and Prometheus's promtool to check /metrics.
DEBS := make cmake gcc g++ clang libclang-rt-14-dev pkg-config \
        libdcmtk-dev dcmtk libgdcm-dev libxml2-dev libzmq3-dev liblmdb-dev libssl-dev openssl \
        libcmocka-dev python3 python3-hl7 procps strace util-linux \
        orthanc python3-pydicom python3-numpy python3-pil libgdcm-tools dicom3tools \
        curl nodejs rsyslog rsyslog-gnutls libxml2-utils \
        libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libzstd-dev python3-aiosmtpd prometheus chromium lmdb-utils libsystemd-dev \
        debhelper dpkg-dev build-essential adduser systemd

.PHONY: all deps js build run test test-plain test-sanitize bench deb clean

all: build

# Install only what dpkg says is missing; never re-download what is there.
deps:
	@missing=""; \
	for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# npm packages the tests drive radlink with (tests/js/package-lock.json pins
# them): installed by `npm ci` when missing or older than the lock file. A
# Node.js that comes without npm (Debian's) gets Debian's npm.
js: deps
	@command -v npm >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm; }
	@if [ ! -d tests/js/node_modules ] || [ tests/js/package-lock.json -nt tests/js/node_modules ]; then \
	  echo "installing npm packages for the tests (npm ci)"; \
	  cd tests/js && npm ci --ignore-scripts --no-audit --no-fund && touch node_modules; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRADLINK_WERROR=$(WERROR)
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/radlink serve

test: test-plain test-sanitize

test-plain: build js
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-sanitize: deps js
	CC=clang CXX=clang++ cmake -S . -B $(SANBUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DRADLINK_SANITIZE=ON -DRADLINK_FUZZ=ON -DRADLINK_WERROR=$(WERROR)
	cmake --build $(SANBUILD) -j $(JOBS)
	cd $(SANBUILD) && ctest --output-on-failure -j $(JOBS)

# Full benchmarks, each beside the peer a user would otherwise pick.
bench: build js
	tests/bench/hl7_bench.sh
	tests/bench/mllp_bench.sh
	tests/bench/route_bench.sh
	tests/bench/mwl_bench.sh
	tests/bench/store_bench.sh
	tests/bench/correct_bench.sh
	tests/bench/droute_bench.sh
	tests/bench/report_bench.sh
	tests/bench/prefetch_bench.sh
	tests/bench/mpps_bench.sh
	tests/bench/alert_bench.sh
	tests/bench/http_bench.sh
	tests/bench/backup_bench.sh
	tests/bench/deid_bench.sh

# The Debian package (debhelper, debian/) of the tree as it is, built in a
# copy: $(BUILD)/deb/radlink_VERSION_ARCH.deb.
deb: deps
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/src
	@# the project's own files (in a git checkout: tracked, or new and not
	@# ignored), never a build directory, a data directory or node_modules
	if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then \
	  git ls-files -z --cached --others --exclude-standard | \
	    tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C $(BUILD)/deb/src; \
	else \
	  tar --exclude=./build --exclude='./build-*' --exclude=./var --exclude=./.git \
	    --exclude=node_modules -cf - . | tar -xf - -C $(BUILD)/deb/src; \
	fi
	cd $(BUILD)/deb/src && DEB_BUILD_OPTIONS="parallel=$(JOBS) nocheck" \
	  dpkg-buildpackage -us -uc -b >../build.log 2>&1 || { tail -30 ../build.log; exit 1; }
	ls $(BUILD)/deb/*.deb

clean:
	rm -rf $(BUILD) $(SANBUILD)
