#!/usr/bin/env bash
# The Debian packages noarkpack uses, installed if missing (needs root or sudo):
#   libxml2-utils      xmllint, the independent schema validator the tests use beside lxml
#   libreoffice-*      converts office files and images that are not archival formats to PDF/A
#   ghostscript        converts plain PDF to PDF/A
#   chromium           the headless browser the report tests render the HTML reports in (issue 23), driven
#                      by Playwright's executable_path: nothing downloads a browser
set -euo pipefail
need=""
command -v xmllint >/dev/null 2>&1 || need="$need libxml2-utils"
command -v soffice >/dev/null 2>&1 || need="$need libreoffice-writer-nogui libreoffice-draw-nogui"
command -v gs >/dev/null 2>&1 || need="$need ghostscript"
command -v chromium >/dev/null 2>&1 || need="$need chromium"
[ -z "$need" ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq $need >/dev/null
