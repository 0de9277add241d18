#!/usr/bin/env bash
# Installs the Debian packages the full test suite needs, when they are missing.
#   chromium + chromium-driver : the end-to-end browser test of `ogi serve`
#   libreoffice (writer, calc) : DOC/WPS/XLS conversion and PDF fixtures
#   fonts-noto-cjk             : a CJK font so generated PDFs carry real Chinese text
#   tesseract-ocr (+ chi-sim)  : the alternative OCR engine (OGI_OCR_ENGINE=tesseract) and its tests
# With --if-root it does nothing (quietly) unless run as root with apt-get available.
set -euo pipefail
if [[ "${1:-}" == "--if-root" ]]; then
  if [[ "$(id -u)" != "0" ]] || ! command -v apt-get >/dev/null 2>&1; then exit 0; fi
fi
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui libreoffice-calc-nogui)
fc-list 2>/dev/null | grep -qi "noto sans cjk" || need+=(fonts-noto-cjk)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
tesseract --list-langs 2>/dev/null | grep -qx chi_sim || need+=(tesseract-ocr-chi-sim)
if ((${#need[@]})); then
  echo "setup-system: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
