# Sourced by .ci/conformance-sigma.sh and .ci/query-length.sh from the
# repository root: creates the pinned sigma-cli venv ($venv; needs python3
# with venv and pip, and PyPI access the first time) and points pySigma's
# ATT&CK cache at the local copy ($SIGMA_ATTACK_JSON).
venv=target/conformance/sigma-venv
attack="${SIGMA_ATTACK_JSON:-tests/conformance/sigma/attack/enterprise-attack-18.1-min.json}"
pins=(pySigma==1.5.1 sigma-cli==3.1.0 pySigma-backend-splunk==2.1.0
      pySigma-backend-kusto==1.0.1 pySigma-backend-sqlite==2.0.0)

if [ ! -x "$venv/bin/sigma" ]; then
    echo "== creating $venv"
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "${pins[@]}"

echo "== ATT&CK cache from $attack"
"$venv/bin/python" -c "import os, sys; from sigma.data import mitre_attack as m; \
m.set_cache_dir(os.path.expanduser('~/.cache/pysigma/mitre_attack')); \
m.set_url(os.path.abspath(sys.argv[1])); assert m.mitre_attack_techniques" "$attack"
